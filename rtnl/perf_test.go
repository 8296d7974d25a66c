package rtnl

import (
	"context"
	"net/netip"
	"testing"
)

// benchRoute is what a route daemon installs by the million: a /32 via a
// gateway out of a device.
var benchRoute = Route{
	Dst:      netip.MustParsePrefix("11.0.0.1/32"),
	Gateway:  netip.MustParseAddr("10.0.0.2"),
	OutIndex: 3,
}

func BenchmarkRouteMarshal(b *testing.B) {
	r := benchRoute
	if err := r.prepare(false); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.MarshalBinary(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBatchAddRoute is the cost of queueing one route on a Batch,
// everything but the system calls of Flush.
func BenchmarkBatchAddRoute(b *testing.B) {
	c := &Client{}
	batch := c.NewBatch(nil)
	bc := batch.Client()
	ctx := context.Background()
	r := benchRoute
	b.ReportAllocs()
	for b.Loop() {
		if err := bc.AddRoute(ctx, &r); err != nil {
			b.Fatal(err)
		}
		if len(batch.queue) >= 4096 {
			batch.queue = batch.queue[:0]
		}
	}
}

// BenchmarkRouteDecode decodes a kernel's IPv4 route into one Route,
// over and over: the decoding alone, without the allocation a listing
// makes per route (see BenchmarkRouteUnmarshal for that).
func BenchmarkRouteDecode(b *testing.B) {
	r := benchRoute
	if err := r.prepare(false); err != nil {
		b.Fatal(err)
	}
	data, err := r.MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	var out Route
	for b.Loop() {
		if err := out.UnmarshalBinary(data); err != nil {
			b.Fatal(err)
		}
	}
}
