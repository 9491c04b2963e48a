# A 100,000-element interval set: /56 blocks of the IPv6 documentation prefix
# (every other one, so that no two merge), and the rule that uses it.
python3 - >set.nft <<'PY'
print("table inet blocklist {")
print("\tset nets {")
print("\t\ttype ipv6_addr")
print("\t\tflags interval")
print("\t\telements = {")
out = []
for i in range(100000):
    n = 2 * i                # /56 number inside 2001:db8::/32 (24 bits)
    out.append(f"2001:db8:{n >> 8:x}:{(n & 0xff) << 8:x}::/56")
for k in range(0, len(out), 500):
    print("\t\t\t" + ", ".join(out[k:k + 500]) + ("," if k + 500 < len(out) else ""))
print("\t\t}")
print("\t}")
print("\tchain input {")
print("\t\ttype filter hook input priority filter; policy accept;")
print("\t\tip6 saddr @nets counter packets 42 bytes 4200 drop")
print("\t}")
print("}")
PY
nft -f set.nft
