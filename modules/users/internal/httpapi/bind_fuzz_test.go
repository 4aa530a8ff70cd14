package httpapi

import (
	"testing"

	"mitosis/modules/users"
	"mitosis/platform/transport/transporttest"
)

func FuzzBindRegister(f *testing.F) {
	transporttest.FuzzBind[users.RegisterRequest](f,
		`{"email":"ada@example.com","name":"Ada","password":"correct horse"}`,
		`{"email":1,"name":"Ada"}`, `{"email":"a@b.c","nickname":"x"}`, `{"name":"\u202eevil\u200b"}`)
}

func FuzzBindCredentials(f *testing.F) {
	transporttest.FuzzBind[users.Credentials](f,
		`{"email":"ada@example.com","password":"correct horse"}`, `{"email":["a"]}`, `{"password":null}`)
}

func FuzzBindRefresh(f *testing.F) {
	transporttest.FuzzBind[users.RefreshRequest](f,
		`{"refresh_token":"rt_0123456789abcdef"}`, `{"refresh_token":""}`, `{"refresh_token":1}`,
		`{"refresh_token":"a","extra":true}`, `{"refresh_token":"\u0000\ud800"}`)
}
