package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/agegender/agegender/internal/budget"
	"github.com/agegender/agegender/internal/face"
	"github.com/agegender/agegender/internal/preprocess"
)

// predictResponse keeps the reference API's three fields first and adds what
// it could not say: the largest face's age interval (when the model gives
// one), every face, and the image size the boxes refer to.
type predictResponse struct {
	Age               int         `json:"age"`
	Gender            string      `json:"gender"`
	GenderProbability float64     `json:"gender_probability"`
	AgeLow            *float64    `json:"age_low,omitempty"`
	AgeHigh           *float64    `json:"age_high,omitempty"`
	Faces             []face.Face `json:"faces"`
	Width             int         `json:"width"`
	Height            int         `json:"height"`
}

// noFaceResponse is the 422 body; Faces is always an empty array, never null.
type noFaceResponse struct {
	Error string      `json:"error"`
	Faces []face.Face `json:"faces"`
}

// errorResponse is every other failure's body.
type errorResponse struct {
	Error string `json:"error"`
}

const formField = "file"

func (s *Server) predict(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, r, http.MethodPost)
		return
	}
	up, err := s.readUpload(w, r)
	if err != nil {
		writeFailure(w, err)
		return
	}
	// The clock starts once the upload is in: it bounds the wait for memory
	// and a slot, and the analysis, not the client's link.
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.Timeout)
	defer cancel()

	hdr, err := preprocess.ReadHeader(up.data, up.name, s.cfg.limits)
	if err != nil {
		up.release()
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	rec := recorderOf(w)
	a := s.admitAndAnalyse(ctx, rec, hdr, up)
	if a.err == nil && len(a.faces) == 0 {
		a.err = face.ErrNoFace
	}
	if a.err != nil {
		writeFailure(w, a.err)
		return
	}
	rec.faces = len(a.faces)
	top := a.faces[face.Largest(a.faces)]
	writeJSON(w, http.StatusOK, predictResponse{
		Age:               int(math.Round(top.Age)),
		Gender:            top.Gender,
		GenderProbability: top.GenderProbability,
		AgeLow:            top.AgeLow,
		AgeHigh:           top.AgeHigh,
		Faces:             a.faces,
		Width:             a.bounds.Dx(),
		Height:            a.bounds.Dy(),
	})
}

// admitAndAnalyse waits, within ctx, for what the image of hdr will take,
// then analyses it, noting the wait on rec. A crop-sized image takes only
// its memory here and is analysed in a micro-batch when batching is on;
// any other takes its memory and a CPU slot (admission). up is its from
// here on: its bytes move from the upload budget to the memory budget once
// admitted.
func (s *Server) admitAndAnalyse(ctx context.Context, rec *recorder, hdr preprocess.Header, up *upload) analysis {
	cost := hdr.CostWith(s.est)
	batched := s.batch != nil && !s.adm.large(cost)
	admit := s.adm.admit
	if batched {
		admit = s.adm.admitMemory
	}
	queued := time.Now()
	release, err := admit(ctx, cost)
	rec.queueWait, rec.queued = time.Since(queued), true
	// The upload budget lets go of the bytes: the memory budget holds them
	// from here on, or nothing does when admission failed.
	up.release()
	if err != nil {
		return analysis{err: err}
	}
	if !batched {
		return s.analyse(ctx, hdr, up, s.adm.large(cost), release)
	}
	a, waited := s.analyseInBatch(ctx, hdr, up, release)
	rec.queueWait += waited
	return a
}

// writeFailure answers err with the status that fits it.
func writeFailure(w http.ResponseWriter, err error) {
	recorderOf(w).err = err
	var ue *uploadError
	switch {
	case errors.As(err, &ue):
		// The body may be partly unread; the client must not send another
		// request on this connection.
		w.Header().Set("Connection", "close")
		if retryable(ue.status) {
			w.Header().Set("Retry-After", "2")
		}
		writeError(w, ue.status, err.Error())
	case errors.Is(err, face.ErrNoFace):
		writeJSON(w, http.StatusUnprocessableEntity, noFaceResponse{Error: face.ErrNoFace.Error(), Faces: []face.Face{}})
	case errors.Is(err, budget.ErrTooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, err.Error())
	case errors.Is(err, errQueueFull):
		w.Header().Set("Retry-After", "2")
		writeError(w, http.StatusTooManyRequests, err.Error())
	case errors.Is(err, errBusy), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		// Canceled: the client went away; nobody reads this, but the log of a
		// proxy might.
		writeError(w, http.StatusServiceUnavailable, err.Error())
	default:
		writeError(w, http.StatusInternalServerError, err.Error())
	}
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s; use %s", r.Method, r.URL.Path, allow))
}

func writeError(w http.ResponseWriter, status int, msg string) {
	if rw := recorderOf(w); rw.err == nil {
		rw.err = errors.New(msg)
	}
	writeJSON(w, status, errorResponse{Error: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Only a NaN or an unmarshalable Health value can get here.
		status = http.StatusInternalServerError
		body, _ = json.Marshal(errorResponse{Error: fmt.Sprintf("encode response: %v", err)})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}
