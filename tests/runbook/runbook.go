// Package runbook reads the on-call runbook of docs/operations.md: the chart tests check its
// kubectl commands against the ops Role, and the end-to-end tests run them as the ops identity.
package runbook

import (
	"errors"
	"strings"
)

// Commands returns the kubectl lines inside the code blocks of the "## Runbook" section.
func Commands(markdown string) ([]string, error) {
	_, section, ok := strings.Cut(markdown, "\n## Runbook\n")
	if !ok {
		return nil, errors.New("no ## Runbook section")
	}
	if i := strings.Index(section, "\n## "); i >= 0 {
		section = section[:i]
	}
	var cmds []string
	inCode := false
	for _, line := range strings.Split(section, "\n") {
		switch {
		case strings.HasPrefix(line, "```"):
			inCode = !inCode
		case inCode && strings.HasPrefix(line, "kubectl "):
			cmds = append(cmds, line)
		}
	}
	return cmds, nil
}

// Questions counts the runbook's questions (its ### headings).
func Questions(markdown string) int {
	_, section, ok := strings.Cut(markdown, "\n## Runbook\n")
	if !ok {
		return 0
	}
	if i := strings.Index(section, "\n## "); i >= 0 {
		section = section[:i]
	}
	return strings.Count(section, "\n### ")
}
