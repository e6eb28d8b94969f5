package main

import (
	"bytes"
	"fmt"
	"net"
	"strings"

	"github.com/gofiber/fiber/v2"
	qrcode "github.com/yeqown/go-qrcode/v2"
)

// The join box's QR code, drawn as SVG from yeqown/go-qrcode's matrix: sharp
// on a projector at any size, and no image library needed.

type svgQR struct{ buf *bytes.Buffer }

func (w svgQR) Write(m qrcode.Matrix) error {
	const quiet = 4 // modules of white border, as the standard asks
	n := m.Width() + 2*quiet
	fmt.Fprintf(w.buf, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges" role="img" aria-label="QR code of the join address">`, n, n)
	fmt.Fprintf(w.buf, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n)
	m.Iterate(qrcode.IterDirection_ROW, func(x, y int, v qrcode.QRValue) {
		if v.IsSet() {
			fmt.Fprintf(w.buf, "M%d %dh1v1h-1z", x+quiet, y+quiet)
		}
	})
	w.buf.WriteString(`"/></svg>`)
	return nil
}

func (svgQR) Close() error { return nil }

// qrSVG encodes text as an SVG QR code. The bytes are not stable: when two
// masks score alike, the library keeps whichever of its goroutines finished
// first, so two calls may draw the same text differently (tests decode).
func qrSVG(text string) ([]byte, error) {
	q, err := qrcode.NewWith(text, qrcode.WithErrorCorrectionLevel(qrcode.ErrorCorrectionMedium))
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := q.Save(svgQR{&buf}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// instructorQR serves the join address as a QR code.
func (a *app) instructorQR(c *fiber.Ctx) error {
	b, err := qrSVG(a.joinBox().URL)
	if err != nil {
		return fmt.Errorf("qr code: %w", err)
	}
	c.Set(fiber.HeaderContentType, "image/svg+xml")
	return c.Send(b)
}

// joinInfo is what the join box shows: the address students open and, when
// they cannot reach it, why and what to do instead.
type joinInfo struct {
	URL       string
	Reachable bool   // false: the server listens on loopback only
	Fix       string // the -addr that would let the room in
}

// joinBox works out the join address from the configuration and the
// listener, never from the request: a Host header is the client's word
// (and a forged one must not end up in a QR code on the projector).
// -join-url wins; a server listening on every interface offers this
// machine's LAN address (localhost on a phone is the phone); one listening
// on loopback only is unreachable from the room, and the box says so.
func (a *app) joinBox() joinInfo {
	if a.cfg.JoinURL != "" {
		return joinInfo{URL: a.cfg.JoinURL, Reachable: true}
	}
	listen := a.cfg.Addr
	if b := a.baseURL.Load(); b != nil && *b != "" {
		listen = strings.TrimPrefix(*b, "http://") // the port actually bound (":0" in tests)
	}
	_, port, err := net.SplitHostPort(listen)
	if err != nil {
		port = "8080"
	}
	host, _, _ := net.SplitHostPort(a.cfg.Addr)
	ip := net.ParseIP(host)
	switch {
	case host == "" || ip != nil && ip.IsUnspecified():
		if lan := lanAddress(); lan != nil {
			return joinInfo{URL: "http://" + net.JoinHostPort(lan.String(), port) + "/", Reachable: true}
		}
		// No network at all: only this machine can join.
		return joinInfo{URL: "http://" + net.JoinHostPort("127.0.0.1", port) + "/", Fix: "connect this machine to the room's network"}
	case host == "localhost" || ip != nil && ip.IsLoopback():
		return joinInfo{URL: "http://" + net.JoinHostPort(host, port) + "/", Fix: "-addr " + net.JoinHostPort("0.0.0.0", port)}
	}
	return joinInfo{URL: "http://" + net.JoinHostPort(host, port) + "/", Reachable: true}
}

// lanAddress is this machine's first non-loopback interface address (IPv4
// first: that is what a classroom's Wi-Fi hands out and a phone can type),
// or nil when it has none.
func lanAddress() net.IP {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var v6 net.IP
	for _, ad := range addrs {
		ipn, ok := ad.(*net.IPNet)
		if !ok || ipn.IP.IsLoopback() || ipn.IP.IsLinkLocalUnicast() || ipn.IP.IsUnspecified() {
			continue
		}
		if v4 := ipn.IP.To4(); v4 != nil {
			return v4
		}
		if v6 == nil {
			v6 = ipn.IP
		}
	}
	return v6
}
