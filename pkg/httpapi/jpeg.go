package httpapi

import (
	"bytes"
	"errors"
	"image/jpeg"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"
)

// CodeInvalidImage is the code of a picture that is not a JPEG.
const CodeInvalidImage = "invalid_image"

// ReadJPEG reads a picture sent as the request body (Content-Type
// image/jpeg, at most limit bytes) and checks that it is a JPEG: 415
// unsupported_media_type, 413 body_too_large or 400 invalid_image
// otherwise. what names the picture in the messages ("a profile
// picture").
func ReadJPEG(c *gin.Context, limit int64, what string) ([]byte, *Error) {
	if ct := c.ContentType(); ct != "image/jpeg" {
		return nil, Errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "send the picture as Content-Type: image/jpeg, not %q", ct)
	}
	tooLarge := Errorf(http.StatusRequestEntityTooLarge, "body_too_large", "%s has at most %d bytes (WhatsApp shows 640×640)", what, limit)
	if c.Request.ContentLength > limit {
		return nil, tooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge
		}
		return nil, Errorf(http.StatusBadRequest, "invalid_body", "could not read the request body: %v", err)
	}
	if _, err := jpeg.DecodeConfig(bytes.NewReader(body)); err != nil {
		return nil, Errorf(http.StatusBadRequest, CodeInvalidImage, "the body is not a JPEG image: %v", err)
	}
	return body, nil
}
