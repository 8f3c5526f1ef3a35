package credliteral

import "fmt"

const apiKey = "Hs3Nc6Bv0Gf5Jy2Tu4Zq7L" // want `hard-coded credential .*Hs…7L`

var dbPassword = "Tr0ub4dorXq9" // want `hard-coded credential .*Tr…q9`

type Config struct {
	Token string
	Host  string
}

func use() {
	c := Config{Token: "Qm7Zr2Lx9Vb4Nt8Wk1Pc5Jd3", Host: "db.internal"} // want `hard-coded credential .*Qm7Z…5Jd3`
	gh := "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"                    // want `hard-coded credential \(github-pat: .*\) ghp_…oNbe`
	m := map[string]string{"client_secret": "Wk1Pc5Jd3Qm7Zr2Lx9Vb4Nt8"} // want `hard-coded credential .*Wk1P…4Nt8`
	var password string
	if password == "letmein-2024!" { // want `hard-coded credential in password`
		fmt.Println("backdoor")
	}
	url := "https://api.vendor.io/?x=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" // want `github-pat`

	// Placeholders, references and non-credentials: nothing to report.
	tmpl := "${DB_PASSWORD}"
	secretName := "prod/db/password"
	token := ""
	host := "Qm7Zr2Lx9Vb4Nt8Wk1Pc5Jd3"
	fmt.Println(c, gh, m, password, url, tmpl, secretName, token, host, apiKey, dbPassword)
}
