# Many tables of every family, some empty, some with only regular chains:
# table order, chain order and empty objects must all survive.
{
for fam in ip ip6 inet arp bridge netdev; do
	for i in $(seq 1 8); do
		echo "table $fam t$i {"
		if [ $((i % 4)) -ne 0 ]; then
			for j in $(seq 1 $i); do
				echo "	chain c$j {"
				[ $((j % 2)) -eq 0 ] && echo "		counter packets $j bytes $((j * 64))"
				echo "	}"
			done
		fi
		echo "}"
	done
done
echo "table inet zz_last { comment \"added last\"; }"
} >many.nft
nft -f many.nft
