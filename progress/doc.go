// Package progress renders a build's events: plain lines for logs, a live terminal view, JSON for tools, and the cascade summary.
package progress
