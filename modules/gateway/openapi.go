package gateway

import _ "embed"

// OpenAPI is the gateway module's part of the public API's document (its tags,
// paths and schemas), merged into /openapi.json with the others'.
//
//go:embed openapi.yaml
var OpenAPI []byte
