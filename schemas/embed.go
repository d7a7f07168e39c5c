// Package schemas embeds wagate's published contracts: the OpenAPI 3.1
// document of the HTTP API (openapi.yaml, served at /v1/openapi.yaml) and
// the JSON Schemas (draft 2020-12) of the event envelope, the event data
// (events/<type>.json) and the command bodies (commands/*.json).
//
// The files are the source of truth: the API serves them as they are, and
// tests check the router against openapi.yaml and every published event
// and command against its schema (Validator). A command schema names the
// verbs it covers in "x-wagate-verbs"; without it the file name is the verb.
package schemas

import (
	"embed"
	"io/fs"
)

//go:embed openapi.yaml events/*.json commands/*.json
var files embed.FS

// FS returns the embedded schema files, rooted at this folder
// (openapi.yaml, events/…, commands/…).
func FS() fs.FS { return files }

// OpenAPI returns the OpenAPI document of the HTTP API (YAML).
func OpenAPI() []byte {
	b, err := files.ReadFile("openapi.yaml")
	if err != nil {
		// The file is embedded at build time; its absence cannot happen at run time.
		return nil
	}
	return b
}
