// Package dockerfile parses Dockerfile text into typed instructions with line numbers and expands variables exactly as Docker does.
package dockerfile
