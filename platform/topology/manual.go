package topology

// Manual builds a placement directly, for tests that need a process with
// only remote clients.
func Manual(local []string, remote map[string]string) Placement {
	if remote == nil {
		remote = map[string]string{}
	}
	return Placement{local: local, remote: remote, subscribers: map[string][]string{}, sinks: map[string]string{}}
}
