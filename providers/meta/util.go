package meta

import (
	"io"
	"net/http"
)

func readAll(resp *http.Response) ([]byte, error) {
	return io.ReadAll(io.LimitReader(resp.Body, 32<<20))
}
