"""Drive Commune's LDAP server with python3-ldap3, as an application would.

Usage: ldap3-client.py HOST PORT CA_FILE BIND_DN PASSWORD BASE
Prints one JSON object with what it saw; the mocha interop test checks it.
"""

import json
import ssl
import sys

from ldap3 import ALL, SUBTREE, Connection, Server, Tls

host, port, ca_file, bind_dn, password, base = sys.argv[1:7]

tls = Tls(ca_certs_file=ca_file, validate=ssl.CERT_REQUIRED)
server = Server(host, port=int(port), get_info=ALL, tls=tls)
conn = Connection(server, user=bind_dn, password=password, raise_exceptions=False)
conn.open()
started_tls = conn.start_tls()
bound = conn.bind()
who = conn.extend.standard.who_am_i()

conn.search(
    base,
    "(|(cn=*mar*)(mail=*mar*)(sn=*mar*)(givenName=*mar*))",
    SUBTREE,
    attributes=["cn", "mail", "sn", "givenName"],
)
autocomplete = sorted(entry.entry_dn for entry in conn.entries)

paged = conn.extend.standard.paged_search(
    base,
    "(objectClass=inetOrgPerson)",
    SUBTREE,
    attributes=["uid"],
    paged_size=2,
    generator=False,
)
people = sorted(str(e["attributes"]["uid"][0]) for e in paged if e["type"] == "searchResEntry")

compare_true = conn.compare(bind_dn, "uid", bind_dn.split(",")[0].split("=")[1])
compare_false = conn.compare(bind_dn, "uid", "someone-else")
refused_write = conn.delete(bind_dn)
write_result = conn.result["result"]

print(
    json.dumps(
        {
            "startTls": started_tls,
            "bound": bound,
            "whoami": who,
            "namingContexts": [str(c) for c in server.info.naming_contexts],
            "schemaTypes": len(server.schema.attribute_types) if server.schema else 0,
            "autocomplete": autocomplete,
            "people": people,
            "compareTrue": compare_true,
            "compareFalse": compare_false,
            "writeRefused": (not refused_write) and write_result == 53,
        }
    )
)
conn.unbind()
