# A 20,000-element verdict map over a concatenation whose elements each carry
# a timeout, a counter with values and a comment: the element list spans many
# netlink messages, and every element must come back with all of its state.
python3 - >map.nft <<'PY'
print("table inet bigmap {")
print("\tchain allow {")
print("\t\taccept")
print("\t}")
print("\tmap dispatch {")
print("\t\ttype ipv6_addr . inet_service : verdict")
print("\t\tflags timeout")
print("\t\tcounter")
print("\t\ttimeout 1h")
print("\t\telements = {")
els = []
for i in range(20000):
    verdict = ("accept", "drop", "jump allow")[i % 3]
    els.append(f"2001:db8:{i >> 8:x}::{i & 0xff:x} . {1024 + i % 60000} "
               f"counter packets {i} bytes {i * 100} timeout {i % 50 + 10}m comment \"element {i}\" : {verdict}")
print(",\n".join("\t\t\t" + e for e in els))
print("\t\t}")
print("\t}")
print("\tchain input {")
print("\t\ttype filter hook input priority filter; policy accept;")
print("\t\tip6 saddr . tcp dport vmap @dispatch")
print("\t}")
print("}")
PY
nft -f map.nft
