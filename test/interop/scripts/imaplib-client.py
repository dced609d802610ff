"""Drive Commune's IMAP server with Python's imaplib, as a script or an application would.

Usage: imaplib-client.py HOST PORT TLS_PORT CA_FILE USER PASSWORD
Prints one JSON object with what it saw; the mocha interop test checks it.
"""

import email
import json
import ssl
import sys
import imaplib

host, port, tls_port, ca_file, user, password = sys.argv[1:7]
context = ssl.create_default_context(cafile=ca_file)
out = {}

# STARTTLS on the plain port
imap = imaplib.IMAP4(host, int(port))
out["pre_tls_caps"] = sorted(imap.capabilities)
imap.starttls(ssl_context=context)
out["login"] = imap.login(user, password)[0]
out["caps"] = sorted(imap.capabilities)

typ, data = imap.list()
out["list"] = sorted(line.decode() for line in data)
out["create"] = imap.create("Python/Inbox")[0]
out["append"] = imap.append(
    "Python/Inbox",
    "(\\Flagged)",
    imaplib.Time2Internaldate(1767225600),
    b"From: py@example.test\r\nSubject: from python\r\n\r\nHello from imaplib.\r\n",
)[1][0].decode()
typ, data = imap.select("Python/Inbox")
out["select"] = [typ, data[0].decode()]
typ, data = imap.search(None, "FLAGGED", "SUBJECT", '"from python"')
out["search"] = data[0].decode()
typ, data = imap.fetch("1", "(RFC822)")
msg = email.message_from_bytes(data[0][1])
out["fetched_subject"] = msg["Subject"]
typ, data = imap.fetch("1", "(FLAGS)")
out["fetched_flags"] = data[0].decode()
typ, data = imap.uid("FETCH", "1", "(INTERNALDATE RFC822.SIZE)")
out["uid_fetch"] = data[0].decode()
typ, data = imap.store("1", "+FLAGS", "(\\Deleted)")
out["store"] = data[0].decode()
typ, data = imap.copy("1", "INBOX")
out["copy"] = typ
typ, data = imap.expunge()
out["expunge"] = [typ, [d.decode() for d in data if d is not None]]
typ, data = imap.status("INBOX", "(MESSAGES UIDNEXT)")
out["status"] = data[0].decode()
imap.close()
out["delete"] = imap.delete("Python/Inbox")[0]
out["logout"] = imap.logout()[0]

# implicit TLS
imaps = imaplib.IMAP4_SSL(host, int(tls_port), ssl_context=context)
imaps.login(user, password)
typ, data = imaps.select("INBOX", readonly=True)
out["imaps_exists"] = data[0].decode()
typ, data = imaps.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
out["imaps_subjects"] = [
    part[1].decode().strip() for part in data if isinstance(part, tuple)
]
imaps.logout()

print(json.dumps(out))
