package contract_test

import (
	"context"
	"errors"
	"math"
	"net/http"
	"slices"
	"time"

	"mitosis/platform/auth"
	"mitosis/platform/contract"
	"mitosis/platform/problem"
)

// lab is a toy contract whose implementation does what a callee should
// not: it changes its input, answers what JSON cannot carry, fails with
// errors outside its list, and reports what it saw of its caller.
type lab interface {
	Sort(ctx context.Context, in numbers) (numbers, error)
	Send(ctx context.Context, in parcel) (seen, error)
	Measure(ctx context.Context, in numbers) (ratio, error)
	Fail(ctx context.Context, in failure) (seen, error)
}

type numbers struct {
	Values []int          `json:"values"`
	Tags   map[string]int `json:"tags"`
}

// parcel holds fields of every kind; the caller sets some of them.
type parcel struct {
	Label string  `json:"label"`
	Ratio float64 `json:"ratio"`
	Extra any     `json:"extra,omitempty"` // a channel, a function: whatever the caller puts here
	note  string  // unexported: JSON never carries it
}

// seen is what the callee saw of the call.
type seen struct {
	Label  string        `json:"label"`
	Note   string        `json:"note"`
	Caller string        `json:"caller"`
	Budget time.Duration `json:"budget"` // left of the deadline, 0 without one
	Marked bool          `json:"marked"` // the caller's context value reached it
}

type ratio struct {
	Value float64 `json:"value"`
}

type failure struct {
	Kind string `json:"kind"`
}

var (
	errBroken = problem.New("lab.broken", http.StatusConflict, "Broken")
	// errElsewhere is a coded error of some other contract: not in lab's list.
	errElsewhere = problem.New("elsewhere.gone", http.StatusGone, "Gone elsewhere")
)

var (
	labAPI  = contract.Define("lab", []*problem.Error{errBroken}, func(s contract.Stub[lab]) lab { return labStub{s} })
	sortM   = contract.Read(labAPI, lab.Sort)
	sendM   = contract.Read(labAPI, lab.Send)
	measure = contract.Read(labAPI, lab.Measure)
	failM   = contract.Read(labAPI, lab.Fail)
)

type labStub struct{ contract.Stub[lab] }

func (s labStub) Sort(ctx context.Context, in numbers) (out numbers, err error) {
	if impl, ok := s.Local(); ok {
		out, err = impl.Sort(ctx, in)
		return out, contract.Done(s.Stub, sortM, err)
	}
	return contract.Call(s.Stub, sortM, ctx, in)
}

func (s labStub) Send(ctx context.Context, in parcel) (out seen, err error) {
	if impl, ok := s.Local(); ok {
		out, err = impl.Send(ctx, in)
		return out, contract.Done(s.Stub, sendM, err)
	}
	return contract.Call(s.Stub, sendM, ctx, in)
}

func (s labStub) Measure(ctx context.Context, in numbers) (out ratio, err error) {
	if impl, ok := s.Local(); ok {
		out, err = impl.Measure(ctx, in)
		return out, contract.Done(s.Stub, measure, err)
	}
	return contract.Call(s.Stub, measure, ctx, in)
}

func (s labStub) Fail(ctx context.Context, in failure) (out seen, err error) {
	if impl, ok := s.Local(); ok {
		out, err = impl.Fail(ctx, in)
		return out, contract.Done(s.Stub, failM, err)
	}
	return contract.Call(s.Stub, failM, ctx, in)
}

type markKey struct{}

// bench is lab's implementation.
type bench struct{}

// Sort sorts in place and counts into the caller's map: both changes reach
// the caller when it shares memory with the callee.
func (bench) Sort(_ context.Context, in numbers) (numbers, error) {
	slices.Sort(in.Values)
	if in.Tags != nil {
		in.Tags["sorted"]++
	}
	return in, nil
}

func (bench) Send(ctx context.Context, in parcel) (seen, error) {
	s := seen{Label: in.Label, Note: in.note, Caller: auth.Caller(ctx), Marked: ctx.Value(markKey{}) != nil}
	if dl, ok := ctx.Deadline(); ok {
		s.Budget = time.Until(dl)
	}
	return s, nil
}

// Measure divides by the number of values: 0/0 is a NaN for none.
func (bench) Measure(_ context.Context, in numbers) (ratio, error) {
	var sum float64
	for _, v := range in.Values {
		sum += float64(v)
	}
	return ratio{Value: sum / float64(len(in.Values))}, nil
}

func (bench) Fail(_ context.Context, in failure) (seen, error) {
	switch in.Kind {
	case "listed":
		return seen{}, errBroken
	case "elsewhere":
		return seen{}, errElsewhere
	case "plain":
		return seen{}, errors.New("disk on fire at 10.0.0.7")
	}
	return seen{}, nil
}

var nan = math.NaN()
