module github.com/nlkit/nlkit/bench

go 1.26.8

require (
	github.com/jsimonetti/rtnetlink/v2 v2.3.0
	github.com/mdlayher/netlink v1.11.2
	github.com/nlkit/nlkit v0.0.0
	github.com/vishvananda/netlink v1.3.1
	golang.org/x/sys v0.50.0
)

require (
	github.com/florianl/go-nfqueue v1.3.2
	github.com/google/go-cmp v0.7.0 // indirect
	github.com/google/gopacket v1.1.19
	github.com/mdlayher/socket v0.6.0 // indirect
	github.com/vishvananda/netns v0.0.5 // indirect
	golang.org/x/net v0.55.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
)

replace github.com/nlkit/nlkit => ../
