package sandbox

// AddLinkedInBulkMember seeds LinkedInBulkMember into s, for tests that need a
// member with more assets than a page holds; the default seed leaves it out.
func AddLinkedInBulkMember(s *Sandbox) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.liMember(LinkedInBulkMember) == nil {
		s.liMembers = append(s.liMembers, seedLinkedInBulk())
	}
}
