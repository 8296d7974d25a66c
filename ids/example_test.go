package ids_test

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/nlkit/nlkit/ids"
)

// A rule set, one packet inspected, its verdict and its EVE alert.
func Example() {
	rules := `var DNS_SERVERS [10.0.0.53]
drop udp any any -> $DNS_SERVERS 53 (msg:"DNS query for a blocked name"; content:"|07|blocked"; nocase; classtype:policy-violation; sid:1000001; rev:1;)
alert udp any any -> any 53 (msg:"DNS query"; sid:1000002;)
`
	rs, err := ids.Parse(strings.NewReader(rules), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	eve := ids.NewEVEWriter(os.Stdout)
	det := ids.NewDetector(ids.NewEngine(rs), eve)
	w := det.NewWorker()

	// A UDP packet, as NFQUEUE delivers it: from the IP header on.
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: []byte{10, 0, 0, 1}, DstIP: []byte{10, 0, 0, 53}}
	udp := &layers.UDP{SrcPort: 40000, DstPort: 53}
	udp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	_ = gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		ip, udp, gopacket.Payload("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07BLOCKED\x03com\x00\x00\x01\x00\x01"))

	ts := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	fmt.Println(w.Inspect(buf.Bytes(), ts, "eth0"))
	_ = eve.Flush()
	// Output:
	// drop
	// {"timestamp":"2024-05-01T12:00:00.000000+0000","flow_id":95309927733577,"in_iface":"eth0","event_type":"alert","src_ip":"10.0.0.1","src_port":40000,"dest_ip":"10.0.0.53","dest_port":53,"proto":"UDP","alert":{"action":"blocked","gid":1,"signature_id":1000001,"rev":1,"signature":"DNS query for a blocked name","category":"Potential Corporate Privacy Violation","severity":1}}
	// {"timestamp":"2024-05-01T12:00:00.000000+0000","flow_id":95309927733577,"in_iface":"eth0","event_type":"alert","src_ip":"10.0.0.1","src_port":40000,"dest_ip":"10.0.0.53","dest_port":53,"proto":"UDP","alert":{"action":"allowed","gid":1,"signature_id":1000002,"rev":0,"signature":"DNS query","category":"","severity":3}}
}
