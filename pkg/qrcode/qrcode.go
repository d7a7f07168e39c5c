// Package qrcode renders pairing codes as PNG images for the QR event, the
// API and the dashboard.
package qrcode

import (
	"encoding/base64"
	"fmt"

	qr "github.com/skip2/go-qrcode"
)

// PNG renders code as a size×size PNG with medium error correction.
func PNG(code string, size int) ([]byte, error) {
	png, err := qr.Encode(code, qr.Medium, size)
	if err != nil {
		return nil, fmt.Errorf("qrcode: %w", err)
	}
	return png, nil
}

// PNGBase64 renders code as a base64-encoded 256×256 PNG.
func PNGBase64(code string) (string, error) {
	png, err := PNG(code, 256)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(png), nil
}
