package connection

import (
	"github.com/relink/relink/models"
	"github.com/relink/relink/providers"
)

// SealForTest encrypts tok into c as the service does when it saves a grant, so that
// tests can seed many connections directly; c.ID must be set.
func SealForTest(s *Service, c *models.Connection, tok providers.Token) error {
	return s.sealToken(c, tok)
}
