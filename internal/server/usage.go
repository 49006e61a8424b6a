package server

// Usage is `agegender serve --help`'s description: what the server answers,
// the limits it keeps and how it stops. It lives beside the code that does
// what it says, so that the two change together.
const Usage = `serve answers the reference API: POST /predict with the multipart field
"file" returns {"age", "gender", "gender_probability"} for the largest face,
its age interval ("age_low", "age_high") when the model gives one, plus
"faces" with every face. GET /health reports the model and runtime
(the process is alive); GET /ready answers 200 while the server takes
requests and 503 once it is stopping (send it traffic or not); GET /metrics
is for Prometheus (requests by route and code, latency, requests in flight,
faces, queue wait).
GET / is a page to try it in a browser: pick, drop or paste a photo and see
every face boxed and labelled, with the raw JSON. It is embedded in the
binary and loads nothing from elsewhere; --no-page turns it off for an
API-only deployment (/ then answers 404 like any unknown path).
Errors are JSON {"error": "..."}: 400 bad upload or an image over the pixel
or aspect-ratio limit, 408 upload slower than --upload-timeout or stalled
(64 KB took over 5 s), 413 over --max-upload or over the memory one image may
take, 405 wrong method, 422 no face found, 429 too many large uploads or
images at once or no memory free within 10 s to receive the upload, 503
busy, timed out or stopping; 429 and 503 say when to retry (Retry-After).

At most --max-connections are open (past it the oldest idle one is closed),
with headers up to 16 KB. Each upload reserves memory for its whole body
from --max-upload-memory before it is read; then the memory the
image's header says it needs is reserved from --max-memory before a pixel is
decoded. One image may use three quarters of --max-memory, and images larger
than a crop (over 1/16 of it) take one of the inference slots (one per core)
before decoding, at most all the slots but one, so crops are never starved.
Crop-sized images are decoded and estimated in micro-batches: the images of
requests that arrive together go to the engine in one call (--max-batch,
--batch-window).

Each request is logged once on stderr, as JSON lines when stderr is not a
terminal and as text when it is, with its id; the id is also returned in the
X-Request-Id header (the client's own when it sent a sane one).

SIGINT or SIGTERM makes /ready fail, keeps serving for --drain-delay so that
a load balancer stops sending, then stops accepting connections and lets the
requests in flight finish.`
