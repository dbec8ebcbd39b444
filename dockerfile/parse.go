package dockerfile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode"
	"unicode/utf8"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// maxLineBytes is the longest physical line (without its newline) that can
// be parsed: the limit of the BuildKit parser's line scanner, and so Docker's.
const maxLineBytes = bufio.MaxScanTokenSize - 1

// Parse reads a Dockerfile and returns its typed instructions grouped into
// stages. file names the Dockerfile in errors. Values are returned as
// written; use an Expander to substitute variables. Errors are *Error.
func Parse(r io.Reader, file string) (*Dockerfile, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, &Error{File: file, Err: fmt.Errorf("reading dockerfile: %w", err)}
	}
	if line := longLine(data); line > 0 {
		return nil, errorf(file, line, "line too long (max %d bytes)", maxLineBytes)
	}
	if line, err := checkText(data); err != nil {
		return nil, &Error{File: file, Line: line, Err: err}
	}
	directives, line, err := scanDirectives(data)
	if err != nil {
		return nil, &Error{File: file, Line: line, Err: plain(err)}
	}
	res, err := parseAST(data)
	if err != nil {
		line := errorLine(err)
		if err.Error() == errNoInstructions {
			line = 0 // the parser points at the last line; no line is at fault
		}
		return nil, &Error{File: file, Line: line, Err: plain(err)}
	}
	df := &Dockerfile{File: file, Escape: res.EscapeToken, Directives: directives}
	for _, w := range res.Warnings {
		wl := 0
		if w.Location != nil {
			wl = w.Location.Start.Line
		}
		df.Warnings = append(df.Warnings, Warning{Line: wl, Msg: w.Short})
	}
	if err := df.addInstructions(res.AST.Children); err != nil {
		return nil, err
	}
	return df, nil
}

// addInstructions converts the parser's nodes and sorts them into meta ARGs and stages.
func (df *Dockerfile) addInstructions(nodes []*parser.Node) error {
	stageLines := map[string]int{}
	for _, n := range nodes {
		inst, err := convertNode(n, df.Escape)
		if err != nil {
			return &Error{File: df.File, Line: n.StartLine, Err: err}
		}
		if from, ok := inst.(*FromInstruction); ok {
			if from.Name != "" {
				if first, dup := stageLines[from.Name]; dup {
					return errorf(df.File, n.StartLine, "duplicate stage name %q (first defined on line %d)", from.Name, first)
				}
				stageLines[from.Name] = n.StartLine
			}
			df.Stages = append(df.Stages, &Stage{Index: len(df.Stages), Name: from.Name, From: from})
			continue
		}
		if len(df.Stages) == 0 {
			if arg, ok := inst.(*ArgInstruction); ok {
				df.MetaArgs = append(df.MetaArgs, arg)
				continue
			}
			return errorf(df.File, n.StartLine, "no build stage in current context: %s must come after FROM (only ARG may come before the first FROM)", inst.Keyword())
		}
		st := df.Stages[len(df.Stages)-1]
		st.Instructions = append(st.Instructions, inst)
	}
	if len(df.Stages) == 0 {
		return errorf(df.File, 0, "dockerfile contains no stages to build: it needs a FROM instruction")
	}
	return nil
}

// longLine returns the 1-based number of the first line longer than
// maxLineBytes, or 0 when there is none.
func longLine(data []byte) int {
	for line := 1; len(data) > 0; line++ {
		n := bytes.IndexByte(data, '\n')
		if n < 0 {
			n = len(data)
		}
		if n > maxLineBytes {
			return line
		}
		data = data[min(n+1, len(data)):]
	}
	return 0
}

// checkText rejects bytes a Dockerfile cannot hold: NUL and invalid UTF-8.
// (BuildKit's lexer would turn them into U+FFFD and print a complaint on
// stderr.) It returns the 1-based line of the first offender.
func checkText(data []byte) (int, error) {
	if utf8.Valid(data) && bytes.IndexByte(data, 0) < 0 {
		return 0, nil
	}
	for line := 1; len(data) > 0; line++ {
		text, rest, _ := bytes.Cut(data, []byte("\n"))
		if err := textError(text); err != nil {
			return line, err
		}
		data = rest
	}
	return 0, nil
}

// textError reports NUL bytes and invalid UTF-8 in s.
func textError[T string | []byte](s T) error {
	b := []byte(s)
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return fmt.Errorf("NUL byte at column %d", utf8.RuneCount(b[:i])+1)
	}
	if !utf8.Valid(b) {
		for i := 0; i < len(b); {
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size <= 1 {
				return fmt.Errorf("invalid UTF-8 at column %d: a Dockerfile must be UTF-8 text", utf8.RuneCount(b[:i])+1)
			}
			i += size
		}
	}
	return nil
}

// scanDirectives reads the parser directives (# syntax=, # escape=, # check=)
// at the top of the file the way the BuildKit parser does, so that a bad
// directive is reported on its own line. It returns the line of an error.
func scanDirectives(data []byte) (map[string]string, int, error) {
	found := map[string]string{}
	var dp parser.DirectiveParser
	for line := 1; len(data) > 0; line++ {
		text, rest, _ := bytes.Cut(data, []byte("\n"))
		data = rest
		if line == 1 {
			text = bytes.TrimPrefix(text, []byte{0xEF, 0xBB, 0xBF})
		}
		text = bytes.TrimLeftFunc(bytes.TrimRight(text, "\r\n"), unicode.IsSpace)
		d, err := dp.ParseLine(text)
		if err != nil {
			return nil, line, err
		}
		if d == nil {
			break // the parser stops looking at the first non-directive line
		}
		if d.Name == "escape" && d.Value != "`" && d.Value != `\` {
			return nil, line, fmt.Errorf("invalid escape token %q: it must be ` or \\", d.Value)
		}
		found[d.Name] = d.Value
	}
	return found, 0, nil
}

// errNoInstructions is the BuildKit parser's message for a file without instructions.
const errNoInstructions = "file with no instructions"

// parseAST runs the BuildKit parser, turning a panic into an error.
func parseAST(data []byte) (res *parser.Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			res, err = nil, fmt.Errorf("internal parser error: %v", p)
		}
	}()
	res, err = parser.Parse(bytes.NewReader(data))
	if err == nil && (res == nil || res.AST == nil) {
		err = errors.New(errNoInstructions)
	}
	return res, err
}

// plain drops BuildKit's wrappers (location, stack trace) from a parser
// error, keeping its message; the location lives in *Error.
func plain(err error) error {
	return errors.New(err.Error())
}

// errorLine returns the first line a parser error points at, or 0.
func errorLine(err error) int {
	var le *parser.LocationError
	if errors.As(err, &le) && len(le.Locations) > 0 && len(le.Locations[0]) > 0 {
		return max(le.Locations[0][0].Start.Line, 0)
	}
	return 0
}
