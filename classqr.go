package main

import (
	"bytes"
	"fmt"

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

// qrSVG encodes text as an SVG QR code.
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
	join := a.cfg.JoinURL
	if join == "" {
		join = c.BaseURL() + "/"
	}
	b, err := qrSVG(join)
	if err != nil {
		return fmt.Errorf("qr code: %w", err)
	}
	c.Set(fiber.HeaderContentType, "image/svg+xml")
	return c.Send(b)
}
