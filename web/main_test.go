package web_test

import (
	"testing"

	"mitosis/platform/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }
