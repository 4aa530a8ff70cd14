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
