"""Drive Commune's CalDAV server with python3-caldav (Debian), as a script would.

Usage: caldav-client.py URL USER PASSWORD
URL is the server root; the principal and calendar home are discovered from it.
Prints one JSON object with what it saw; the mocha interop test checks it.
"""

import json
import sys
from datetime import datetime, timezone

import caldav

url, user, password = sys.argv[1:4]
out = {}

WEEKLY = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//commune interop//python3-caldav//EN
BEGIN:VEVENT
UID:py-weekly@example.test
DTSTAMP:20250101T000000Z
DTSTART:20250106T090000Z
DTEND:20250106T093000Z
RRULE:FREQ=WEEKLY;COUNT=10
SUMMARY:Weekly standup
END:VEVENT
END:VCALENDAR
"""

SINGLE = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//commune interop//python3-caldav//EN
BEGIN:VEVENT
UID:py-single@example.test
DTSTAMP:20250101T000000Z
DTSTART:20250115T140000Z
DTEND:20250115T150000Z
SUMMARY:Review
END:VEVENT
END:VCALENDAR
"""

OUTSIDE = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//commune interop//python3-caldav//EN
BEGIN:VEVENT
UID:py-outside@example.test
DTSTAMP:20250101T000000Z
DTSTART:20250601T140000Z
DTEND:20250601T150000Z
SUMMARY:Summer
END:VEVENT
END:VCALENDAR
"""

TODO = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//commune interop//python3-caldav//EN
BEGIN:VTODO
UID:py-todo@example.test
DTSTAMP:20250101T000000Z
SUMMARY:Write the report
STATUS:NEEDS-ACTION
END:VTODO
END:VCALENDAR
"""

# Discovery: current-user-principal, then calendar-home-set
client = caldav.DAVClient(url=url, username=user, password=password)
principal = client.principal()
out["principal"] = str(principal.url)
out["home"] = str(principal.calendar_home_set.url)
out["calendars_before"] = sorted(str(c.url) for c in principal.calendars())

# A new calendar with MKCALENDAR
cal = principal.make_calendar(name="Interop", cal_id="interop")
out["calendar"] = str(cal.url)
out["calendar_name"] = cal.get_display_name()
out["calendars_after"] = sorted(str(c.url) for c in principal.calendars())

# Events, one recurring weekly
for ics in (WEEKLY, SINGLE, OUTSIDE):
    cal.save_event(ics)
out["events"] = sorted(str(e.icalendar_instance.walk("VEVENT")[0]["UID"]) for e in cal.events())

# Date search in January with expansion by the server
found = cal.search(
    start=datetime(2025, 1, 1, tzinfo=timezone.utc),
    end=datetime(2025, 2, 1, tzinfo=timezone.utc),
    event=True,
    expand=True,
)
instances = []
for obj in found:
    for ev in obj.icalendar_instance.walk("VEVENT"):
        start = ev["DTSTART"].dt.astimezone(timezone.utc)
        instances.append(
            [str(ev["UID"]), start.strftime("%Y%m%dT%H%M%SZ"), "RRULE" in ev, "RECURRENCE-ID" in ev]
        )
out["january"] = sorted(instances, key=lambda i: (i[1], i[0]))

# Todos: add, list, complete
todo = cal.save_todo(TODO)
out["todos_open"] = [str(t.icalendar_instance.walk("VTODO")[0]["SUMMARY"]) for t in cal.todos()]
todo.complete()
out["todos_open_after"] = [str(t.icalendar_instance.walk("VTODO")[0]["SUMMARY"]) for t in cal.todos()]
done = cal.todos(include_completed=True)
out["todos_all"] = [
    [str(t.icalendar_instance.walk("VTODO")[0]["SUMMARY"]), str(t.icalendar_instance.walk("VTODO")[0].get("STATUS"))]
    for t in done
]
out["todo_completed_stamp"] = "COMPLETED" in done[0].icalendar_instance.walk("VTODO")[0] if done else False

print(json.dumps(out))
