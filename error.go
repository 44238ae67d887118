package mapcluster

import (
	"errors"
	"fmt"
)

// ErrorCode classifies an Error so that callers (the CLI, the HTTP layer) can
// react without parsing messages.
type ErrorCode string

// The error codes. The HTTP layer maps them to 400, 404, 409, 503 and 500.
const (
	EInvalid     ErrorCode = "invalid-argument"
	ENotFound    ErrorCode = "not-found"
	EConflict    ErrorCode = "conflict"
	EUnavailable ErrorCode = "unavailable"
	EInternal    ErrorCode = "internal"
)

// Error is mapcluster's error type. Code classifies it; Field names the
// argument, column or property at fault when there is one; Message is a
// sentence a person can act on. Err, when set, is the underlying cause.
type Error struct {
	Code    ErrorCode
	Field   string
	Message string
	Err     error
}

// Error implements error.
func (e *Error) Error() string {
	msg := e.Message
	if e.Field != "" && msg == "" {
		msg = e.Field + ": invalid"
	}
	if e.Err != nil {
		if msg == "" {
			return e.Err.Error()
		}
		return msg + ": " + e.Err.Error()
	}
	if msg == "" {
		return string(e.Code)
	}
	return msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// InvalidField returns an EInvalid error that names the field at fault.
func InvalidField(field, format string, args ...any) *Error {
	return &Error{Code: EInvalid, Field: field, Message: field + ": " + fmt.Sprintf(format, args...)}
}

// ErrorCodeOf returns the code of the first *Error in err's chain, EInternal
// for any other non-nil error, and "" for nil.
func ErrorCodeOf(err error) ErrorCode {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) && e.Code != "" {
		return e.Code
	}
	return EInternal
}

// ErrorFieldOf returns the Field of the first *Error in err's chain, or "".
func ErrorFieldOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}
