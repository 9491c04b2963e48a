# A 5,000-rule chain (a generated per-host allow list of the kind config
# management produces): varied matches, counters with values, comments.
python3 - >big.nft <<'PY'
print("table inet big {")
print("\tchain input {")
print("\t\ttype filter hook input priority filter; policy drop;")
nets = ["192.0.2", "198.51.100", "203.0.113"]
for i in range(5000):
    net = nets[i % 3]
    host = i % 254 + 1
    port = 1024 + i
    kind = i % 5
    if kind == 0:
        r = f"ip saddr {net}.{host} tcp dport {port} counter packets {i} bytes {i * 60} accept"
    elif kind == 1:
        r = f"ip6 saddr 2001:db8:{i:x}::/64 udp dport {port} accept comment \"host {i}\""
    elif kind == 2:
        r = f"iifname \"veth{i % 16}\" ip daddr {net}.{host} tcp dport {{ {port}, {port + 10000} }} accept"
    elif kind == 3:
        r = f"meta mark {i:#x} ct state new limit rate {i % 100 + 1}/second counter packets 0 bytes 0 accept"
    else:
        r = f"ip saddr {net}.0/24 tcp dport {port} jump sub{i % 8}"
    print("\t\t" + r)
print("\t}")
for j in range(8):
    print(f"\tchain sub{j} {{")
    print(f"\t\tcounter packets {j} bytes {j * 100} return")
    print("\t}")
print("}")
PY
nft -f big.nft
