package corpus

// BlankGrayPNG is blankGrayPNG for the server's tests and bench/loadtest,
// which post the same decompression bombs and strips over HTTP.
func BlankGrayPNG(w, h uint32) []byte { return blankGrayPNG(w, h) }
