# Large anonymous sets and maps bound to single rules (their elements span
# several netlink messages, sent before the rule that binds them): 20,000
# addresses, 5,000 IPv6 prefixes, and a 3,000-entry anonymous vmap jumping
# into 100 chains.
python3 - >anon.nft <<'PY'
print("table inet anon {")
for c in range(100):
    print(f"\tchain to{c} {{\n\t\tcounter packets {c} bytes {c * 10} accept\n\t}}")
print("\tchain input {")
print("\t\ttype filter hook input priority filter; policy accept;")
addrs = [f"2001:db8:{i >> 16:x}:{i & 0xffff:x}::1" for i in range(20000)]
print("\t\tip6 daddr { " + ", ".join(addrs) + " } drop")
nets = [f"2001:db8:{0x8000 + i:x}::/48" for i in range(0, 10000, 2)]
print("\t\tip6 saddr { " + ", ".join(nets) + " } counter packets 5 bytes 500 drop")
vm = [f"{1024 + i} : jump to{i % 100}" for i in range(3000)]
print("\t\ttcp dport vmap { " + ", ".join(vm) + " }")
print("\t}")
print("}")
PY
nft -f anon.nft
