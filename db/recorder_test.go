package db

import "testing"

func TestStatementKindNamesVerbAndTable(t *testing.T) {
	cases := map[string]string{
		"SELECT s.`key`, u.username FROM sessions s LEFT JOIN users u ON u.id = s.user_id WHERE s.`key` = ?": "SELECT sessions",
		"SELECT s.`key` FROM sessions s LEFT JOIN users u ON u.id = s.user_id WHERE s.`key` = ? FOR UPDATE":  "SELECT sessions FOR UPDATE",
		"INSERT INTO events (session_key) VALUES (?)":                                                        "INSERT events",
		"UPDATE sessions SET last_seen_at = ? WHERE `key` = ?":                                               "UPDATE sessions",
		"DELETE FROM sessions WHERE `key` = ?":                                                               "DELETE sessions",
		"BEGIN":                                                                                              "BEGIN",
		"SELECT s.`key`, (SELECT json_group_array(c.quantity) FROM cart_items c WHERE c.user_id = s.user_id) AS cart FROM sessions s WHERE s.`key` = ?": "SELECT sessions",
		"  select c.product_id from cart_items c join products p on p.id = c.product_id":                                                                "SELECT cart_items",
	}
	for q, want := range cases {
		if got := statementKind(q); got != want {
			t.Errorf("statementKind(%q) = %q, want %q", q, got, want)
		}
	}
}
