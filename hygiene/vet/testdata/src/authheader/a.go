package authheader

import (
	"fmt"
	"net/http"
)

func set(req *http.Request, token, apiToken, authHeader string) {
	req.Header.Set("Authorization", "Bearer"+token)                   // want `auth-header-concatenated: the scheme "Bearer" is joined`
	req.Header.Set("Authorization", "Bearer  "+token)                 // want `auth-header-spacing: more than one space`
	req.Header.Add("Authorization", fmt.Sprintf("Bearer%s", token))   // want `auth-header-concatenated`
	req.Header.Set("Authorization", "Bearer: "+token)                 // want `auth-header-bad-scheme: .* is followed by ":"`
	req.Header.Set("Authorisation", "Bearer "+token)                  // want `auth-header-name-typo: header name Authorisation`
	req.Header.Set("Authorization", apiToken)                         // want `auth-header-missing-scheme: Authorization is set to apiToken`
	req.Header.Set("Authorization", "Baerer "+token)                  // want `auth-header-bad-scheme: .* misspelling of "Bearer"`
	req.Header.Set("Authorization", `Token "`+token+`"`)              // want `auth-header-quoted-token`
	req.Header.Set("Authorization", "Basic YWRtaW46UTd2TTJ4UDlrTDRu") // want `basic-auth-plain-base64`
	h := http.Header{"Authorization": {" Bearer " + token}}           // want `auth-header-spacing: Authorization value starts with whitespace`
	h["Authorization"] = []string{"Bearer" + token}                   // want `auth-header-concatenated`
	h.Set("Authentication", "Bearer "+token)                          // want `auth-header-name-typo: header name Authentication`

	// Correct, or not an http.Header: nothing to report.
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Authorization", authHeader)
	req.Header.Set("Authorization", fmt.Sprintf("Bearer %s", token))
	req.Header.Set("Authorization", "token "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Proxy-Authorization", "Basic "+token)
	h.Set("Authentication-Info", "x")
	m := map[string]string{}
	m["Authorization"] = "Bearer" + token
	_ = m
}
