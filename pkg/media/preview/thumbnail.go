package preview

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	_ "image/png" // PNG images get thumbnails too
)

// Thumbnail parameters.
const (
	// ThumbnailSide is the longer side of a thumbnail, in pixels.
	ThumbnailSide = 72
	// ThumbnailQuality is the JPEG quality of thumbnails.
	ThumbnailQuality = 60
	// maxPixels bounds the images decoded for a thumbnail (a 5 MB JPEG
	// can claim 60000×60000 pixels in its header).
	maxPixels = 50_000_000
)

// ErrNoImage: the bytes are not a JPEG or PNG image this package decodes.
var ErrNoImage = errors.New("preview: not a JPEG or PNG image")

// Image is what a thumbnail is made of: the image's size and the
// thumbnail's JPEG bytes.
type Image struct {
	Width, Height int
	JPEG          []byte
}

// Thumbnail decodes a JPEG or PNG image and returns its size and a JPEG
// thumbnail whose longer side is ThumbnailSide pixels (the image's own size
// when smaller). ErrNoImage for anything else.
func Thumbnail(data []byte) (Image, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return Image{}, fmt.Errorf("%w: %v", ErrNoImage, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxPixels {
		return Image{}, fmt.Errorf("%w: %d×%d pixels", ErrNoImage, cfg.Width, cfg.Height)
	}
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return Image{}, fmt.Errorf("%w: %v", ErrNoImage, err)
	}
	thumb := boxScale(src, ThumbnailSide)
	var out bytes.Buffer
	if err := jpeg.Encode(&out, thumb, &jpeg.Options{Quality: ThumbnailQuality}); err != nil {
		return Image{}, fmt.Errorf("preview: encode thumbnail: %w", err)
	}
	return Image{Width: cfg.Width, Height: cfg.Height, JPEG: out.Bytes()}, nil
}

// boxScale scales src so that its longer side is at most side pixels: each
// pixel of the result is the mean of the source pixels its box covers.
// Transparent pixels are laid on white, as WhatsApp shows them.
func boxScale(src image.Image, side int) *image.RGBA {
	b := src.Bounds()
	sw, sh := b.Dx(), b.Dy()
	dw, dh := sw, sh
	if sw >= sh && sw > side {
		dw, dh = side, max(1, (sh*side+sw/2)/sw)
	} else if sh > sw && sh > side {
		dw, dh = max(1, (sw*side+sh/2)/sh), side
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := 0; y < dh; y++ {
		y0, y1 := b.Min.Y+y*sh/dh, b.Min.Y+(y+1)*sh/dh
		for x := 0; x < dw; x++ {
			x0, x1 := b.Min.X+x*sw/dw, b.Min.X+(x+1)*sw/dw
			var r, g, bl, n uint64
			for sy := y0; sy < y1; sy++ {
				for sx := x0; sx < x1; sx++ {
					cr, cg, cb, ca := src.At(sx, sy).RGBA()
					// Premultiplied colour on white: c + (1 - a).
					r += uint64(cr + 0xffff - ca)
					g += uint64(cg + 0xffff - ca)
					bl += uint64(cb + 0xffff - ca)
					n++
				}
			}
			dst.SetRGBA(x, y, color.RGBA{R: uint8(r / n >> 8), G: uint8(g / n >> 8), B: uint8(bl / n >> 8), A: 0xff})
		}
	}
	return dst
}
