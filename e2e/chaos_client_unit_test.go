package e2e

import (
	"net"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// A request whose connection could not be made was never sent (a
// definite outcome); one cut after it was written is not known to be.
func TestNeverSentTellsAFailedConnectFromACutRequest(t *testing.T) {
	client := &http.Client{Transport: &http.Transport{}}

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := closed.Addr().String()
	require.NoError(t, closed.Close())
	_, err = client.Get("http://" + addr + "/")
	require.Error(t, err)
	require.True(t, neverSent(err), "refused: %v", err)

	cutting, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer cutting.Close()
	go func() {
		for {
			c, err := cutting.Accept()
			if err != nil {
				return
			}
			_, _ = c.Read(make([]byte, 1024)) // the request arrives, no answer
			_ = c.Close()
		}
	}()
	_, err = client.Post("http://"+cutting.Addr().String()+"/", "application/json", nil)
	require.Error(t, err)
	require.False(t, neverSent(err), "cut after it was sent: %v", err)
}
