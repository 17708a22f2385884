package dnsbatch

// Relocation is Relocate's answer: what to send so that a claim's records are in the hosted zone
// in effect, and nothing of ours is left in the one they were written in.
type Relocation struct {
	// Ensure are the wants to send, in order: the records in the zone in effect first, then
	// their deletion from the zone they were written in (make before break: the name resolves
	// throughout in a public zone, and a private zone's old records go only once the new are in
	// place). The caller goes on to the next only once one is Done.
	Ensure []Want
	// Zone is the hosted zone to record as the records' (status) once every want is Done.
	Zone string
	// Moving says the records are leaving another hosted zone.
	Moving bool
}

// Relocate decides, as pure data, where a claim's records go. wants are the records in the hosted
// zone in effect (current, the claim's ManagedZone's); recorded is the zone the claim's status
// says they were written in, empty for records written before the status said so (taken to be in
// current). When the two differ, the records are written in current and then deleted from
// recorded (only ours: the batcher checks the ownership marker); keepOld leaves recorded's
// records alone, for a shared record another claim still recorded there needs. An absent want
// (a record the claim no longer wants) goes from both zones.
func Relocate(recorded, current string, wants []Want, keepOld bool) Relocation {
	if recorded == "" {
		recorded = current
	}
	out := Relocation{Zone: current, Moving: recorded != current}
	for _, w := range wants {
		w.Zone = current
		out.Ensure = append(out.Ensure, w)
	}
	if !out.Moving {
		return out
	}
	for _, w := range wants {
		if keepOld && !w.Absent {
			continue
		}
		w.Zone, w.Absent = recorded, true
		out.Ensure = append(out.Ensure, w)
	}
	return out
}

// Removal are the wants that delete a claim's records (wants, whatever their Zone and Absent) from
// the zone they were recorded in and, when the zone in effect differs, from that one too: a claim
// deleted while its records were moving may have them in both. recorded empty means current.
// Deleting where nothing of ours is costs no change (the batcher deletes only our own records).
func Removal(recorded, current string, wants []Want) []Want {
	zones := []string{current}
	if recorded != "" && recorded != current {
		zones = []string{recorded, current}
	}
	var out []Want
	for _, z := range zones {
		if z == "" {
			continue
		}
		for _, w := range wants {
			w.Zone, w.Absent = z, true
			out = append(out, w)
		}
	}
	return out
}
