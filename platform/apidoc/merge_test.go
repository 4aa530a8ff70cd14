package apidoc_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/apidoc"
)

const base = `openapi: 3.1.0
info: {title: t, version: "1"}
tags: [{name: operations}]
paths:
  /health: {get: {operationId: health}}
components:
  schemas:
    Problem: {type: object}
`

// The modules' parts join the base: tags after its own, paths and
// components beside its.
func TestMergeAddsEachPart(t *testing.T) {
	doc, err := apidoc.Parse([]byte(base),
		[]byte("tags: [{name: shelf}]\npaths:\n  /api/v1/shelves: {get: {operationId: listShelves}}\ncomponents:\n  schemas:\n    Shelf: {type: object}\n"),
		[]byte("paths:\n  /api/v1/aisles: {get: {operationId: listAisles}}\ncomponents:\n  parameters:\n    Aisle: {name: aisle, in: query}\n"))
	require.NoError(t, err)
	var got struct {
		Tags       []map[string]string       `json:"tags"`
		Paths      map[string]any            `json:"paths"`
		Components map[string]map[string]any `json:"components"`
	}
	require.NoError(t, json.Unmarshal(doc.JSON(), &got))
	assert.Equal(t, []map[string]string{{"name": "operations"}, {"name": "shelf"}}, got.Tags)
	assert.Len(t, got.Paths, 3)
	assert.Contains(t, got.Components["schemas"], "Shelf")
	assert.Contains(t, got.Components["schemas"], "Problem")
	assert.Contains(t, got.Components["parameters"], "Aisle")
}

// No part overrides another: what two declare, or what a part may not
// hold, is an error naming it.
func TestMergeRefusesOverlaps(t *testing.T) {
	for name, tc := range map[string]struct{ fragment, want string }{
		"path":               {"paths:\n  /health: {get: {operationId: mine}}\n", "path /health is declared twice"},
		"schema":             {"components:\n  schemas:\n    Problem: {type: string}\n", "component schemas Problem is declared twice"},
		"tag":                {"tags: [{name: operations}]\n", "tag operations is declared twice"},
		"info":               {"info: {title: mine}\n", `"info" is not for a module's part`},
		"not a map":          {"paths: [a]\n", "paths is not a mapping"},
		"tag not a mapping":  {"tags: [shelf]\n", "a tag has no name"},
		"tag without a name": {"tags: [{description: shelves}]\n", "a tag has no name"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := apidoc.Parse([]byte(base), []byte(tc.fragment))
			require.ErrorContains(t, err, tc.want)
		})
	}
}
