package api

import (
	"fmt"
	"net/http"
)

// Bounds of a request, beyond those of the query parameters (params.go).
const (
	// MaxHeaderBytes is what `reporter serve` sets as http.Server.MaxHeaderBytes: the request
	// line and headers together. A request over it gets net/http's own 431, before the API.
	MaxHeaderBytes = 16 << 10
	// maxPathBytes and maxQueryBytes bound the URL: a longer path or query string is a 414.
	maxPathBytes  = 512
	maxQueryBytes = 4 << 10
)

// allowedMethods is the Allow header of a 405: the API only reads.
const allowedMethods = "GET, HEAD"

// bound refuses, before authentication and routing, a method other than GET or HEAD (405),
// a path or query string over its limit (414) and a request with a body (413): no endpoint
// reads one, so none is accepted, of any size.
func bound(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var e *httpError
		switch path, query := r.URL.EscapedPath(), r.URL.RawQuery; {
		case r.Method != http.MethodGet && r.Method != http.MethodHead:
			w.Header().Set("Allow", allowedMethods)
			e = methodNotAllowed(r)
		case len(path) > maxPathBytes:
			e = &httpError{status: http.StatusRequestURITooLong, msg: fmt.Sprintf("the path of %d bytes is over the limit of %d", len(path), maxPathBytes)}
		case len(query) > maxQueryBytes:
			e = &httpError{status: http.StatusRequestURITooLong, msg: fmt.Sprintf("the query string of %d bytes is over the limit of %d", len(query), maxQueryBytes)}
		case r.ContentLength != 0: // -1: a body of unknown length (chunked)
			// The server would read what is left of it to reuse the connection: close it instead.
			w.Header().Set("Connection", "close")
			e = &httpError{status: http.StatusRequestEntityTooLarge, msg: "a request body is not accepted: the API only answers GET and HEAD"}
		}
		if e != nil {
			writeError(w, e)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// methodNotAllowed is the 405 of r. net/http has checked that the method is a token.
func methodNotAllowed(r *http.Request) *httpError {
	return &httpError{status: http.StatusMethodNotAllowed, msg: fmt.Sprintf("method %s not allowed: use GET or HEAD", cut(r.Method))}
}
