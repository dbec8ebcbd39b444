package dockerfile

import (
	"errors"
	"fmt"
)

// Error is a problem found in a Dockerfile, located by file name and line.
// Line is 1-based; 0 means the problem is not tied to one line.
type Error struct {
	File string
	Line int
	Err  error
}

// Error formats the problem as "File:Line: msg", or "File: msg" when Line is 0.
func (e *Error) Error() string {
	msg := "unknown error"
	if e.Err != nil {
		msg = e.Err.Error()
	}
	if e.Line == 0 {
		return e.File + ": " + msg
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, msg)
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Warning is a non-fatal remark of the parser, such as an empty continuation line.
type Warning struct {
	Line int
	Msg  string
}

// errorf builds an *Error for file at line.
func errorf(file string, line int, format string, args ...any) *Error {
	return &Error{File: file, Line: line, Err: fmt.Errorf(format, args...)}
}

// asError wraps err as an *Error at line unless it already is one.
func asError(file string, line int, err error) *Error {
	var de *Error
	if errors.As(err, &de) {
		return de
	}
	return &Error{File: file, Line: line, Err: err}
}
