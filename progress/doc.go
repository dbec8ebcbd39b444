// Package progress renders a build's events: plain lines for logs, a live terminal view, JSON for tools, and the cascade summary.
//
// # Plain output
//
// A step's header is "[N/TOTAL] INSTRUCTION", its RUN output lines start
// with "  | ", its result with "  => " (and a miss's reason "     why: ").
// N is the step's index in the build (a --jobs 1 build's order), TOTAL
// the build's number of steps.
//
// Steps of different stages or platforms may run at once, and their lines
// interleave. So from the first step of a second stage (or platform) on,
// every line of a step starts with its tag "#N ", as BuildKit's plain
// output does, and headers name the stage, after its platform when the
// build has several:
//
//	#2 [2/7 build] RUN make
//	#4 [4/7 docs] RUN mkdocs build
//	#2 | cc -c main.c
//	#4 | INFO building docs
//	#4 => built in 1.50s  layer sha256:82147211de4c 3.0 KiB
//	#2 => built in 1.50s  layer sha256:1e8c1c7e50e5 5.0 MiB
//	#6 [6/9 linux/arm64 app] RUN uname -m
//
// The rule depends on the steps' stages alone, never on timing: a build of
// one stage keeps the plain form throughout, and the lines before the
// switch are never ambiguous, because the steps of one stage run one after
// the other. An unnamed stage is called "stage-N", as BuildKit calls it.
// The summary at the end counts each stage's steps when there are several.
//
// # Terminal view
//
// The live view follows the same rule: from the first step of a second
// stage or platform on, each step's line (running, finished, or left
// unfinished by a failed build) carries the stage's label in its tag, and
// the cascade summary groups its rows by stage. The steps running at once
// stay at the bottom, in the order they started, under a line that
// counts them; their output lines (five for a step running alone, three
// each for several) share the rows the terminal's height leaves, and the
// steps that do not fit are named on a last line:
//
//	running 3 steps, 4 of 9 done
//	⠹ [2/9 build] RUN make  3.1s
//	    │ cc -c util.c
//	⠹ [4/9 docs] RUN mkdocs build  2.0s
//	    │ INFO building docs
//	  +1 more running: [7/9 linux/arm64 app]
package progress
