package crisis

import (
	"slices"
	"testing"
)

// factorExamples gives, for every factor of factors.txt, a message that
// must fire it (TestEveryFactorFires): the word classes of each factor
// really meet where the severity table says they do.
var factorExamples = map[string]string{
	"f-deathwish":          "honestly i hope i dont wake up tomorrow",
	"f-voices":             "the voices keep telling me to jump",
	"f-crash":              "i keep thinking about swerving my car into a tree",
	"f-crash-now":          "tomorrow im going to drive my car into a wall",
	"f-method-intent":      "im going to hang myself",
	"f-method-access-time": "i bought a rope and tonight is when",
	"f-wish-time":          "i want to be dead, the rope is ready for tonight",
	"f-prep":               "i wrote goodbye letters to my kids",
	"f-giveaway":           "gave away my guitar, i wont need it anymore",
	"f-od-taken-fx":        "took a handful and now my lips are blue",
	"f-od-sub-fx":          "did some fent and i cant breathe",
	"f-od-grave":           "my friend is unresponsive on the floor",
	"f-od-taken-qty":       "i took 20 pills of xanax",
	"f-od-intent-qty":      "im going to take the whole bottle of xanax",
	"f-od-intent-now":      "im going to take the whole bottle of xanax tonight",
	"f-od-tolerance":       "used heroin again after 8 months clean",
	"f-od-tol-alone":       "used again after 8 months clean, alone in my flat",
	"f-od-alone":           "using fent alone in my room",
	"f-od-mix":             "mixing xanax with heroin",
	"f-od-use-intent":      "im going to use fent alone",
	"f-ab-night":           "my stepdad comes into my room at night",
	"f-ab-room":            "my uncle touches me",
	"f-ab-control":         "my husband takes my phone and my money",
	"f-ab-violence":        "my boyfriend hits me",
	"f-ab-threat":          "he threatened to kill me if i leave",
	"f-ab-here":            "he is outside my door with a knife",
	"f-ab-here-now":        "my ex is outside my door right now",
	"f-harm-intent":        "im going to kill my boss",
	"f-harm-weapon":        "im going to bring a gun for my boss",
	"f-harm-now":           "im going to stab my boss with a knife tomorrow",
	"f-sh-method":          "i burned my arm with a lighter",
	"f-sh-urge":            "the urge to cut is so strong",
	"f-ifdie":              "if i died in my sleep i would be relieved",
	"f-plan":               "been researching ways to die",
	"f-sh-bleed":           "i dug my nails into my arms until they bled",
	"f-sh-act":             "self harmed again last night",
	"f-sh-act2":            "i carved into my leg and i want to cut again",
	"f-loc-goodbye":        "im on the bridge. goodbye everyone",
	"f-goodbye-means":      "i have the pills. thanks for everything",
	"f-goodbye-od":         "took a bunch of fent. thanks for everything",
	"f-stock":              "ive been stockpiling my pills",
	"f-stock-now":          "ive stockpiled my pills and tonight im doing it",
	"f-method-there":       "i have a rope and im alone",
	"f-harm-there":         "outside his house with a gun, hes coming out tonight",
	"f-harm-think":         "i keep thinking about stabbing my boss",
	"f-doit-time":          "i want to end it tonight, i have everything ready",
	"f-wish-access":        "i want to die and i have the pills",
	"f-method-loc":         "im going to jump off the bridge, im on the bridge now",
	"f-od-tol-intent":      "gonna do my old dose, tolerance is gone",
	"f-harm-access":        "i have a knife for my ex",
	"f-goodbye-loc":        "goodbye everyone, im at the station",
	"f-takeit":             "im taking them all tonight, the whole bottle",
	"f-swallowed":          "swallowed 30 of them",
	"f-plan-time":          "been googling how to overdose, doing it tonight",
	"f-ab-ruckus":          "things are smashing and he is screaming at her",
	"f-od-mix2":            "she takes her xanax with wine",
	"f-od-mix-now":         "took my xanax with vodka and i cant breathe",
	"f-binge":              "im going on a bender, as much as i can",
	"f-dontcare":           "gonna use fent, i dont care if i die",
	"f-justtook-fx":        "just took something and i cant feel my arms",
	"f-od-fx-alone":        "nodding out alone, first time in a year",
	"f-od-alone-intent":    "i want to use alone so nobody stops me",
	"f-od-tol-alone2":      "first time in months, alone with the fent",
	"f-ed":                 "been purging and my heart is racing",
	"f-ab-stalk":           "my ex keeps showing up at my work",
	"f-ab-here-fear":       "my stepdad is trying to get in and im scared",
	"f-ab-thr-weapon":      "he threatened to throw acid on me",
	"f-method-ruminate":    "i keep thinking about the bridge",
	"f-enough-weapon":      "my dad has had enough and keeps a shotgun in the shed",
	"f-voices-harm":        "the voices are telling me to hurt my neighbour",
	"f-binge-now":          "going on a bender tonight, gonna do as much as i can",
	"f-od-think":           "thinking of taking my whole bottle of methadone in one go",
	"f-score-tol":          "scored, about to use, 2 yrs clean",
	"f-tol-access":         "been clean 2 yrs but its sitting in front of me and im gonna do it",
	"f-plan-goodbye":       "tonights the night. thank u for the chats",
	"f-goodbye-final":      "see you on the other side, i wrote goodbye letters",
	"f-loc-method2":        "at the station, the next one doesnt stop. goodbye everyone",
	"f-ab-vio-now":         "my dad is hitting me right now",
	"f-bring-weapon":       "thinking about bringing a knife to work",
	"f-bring-now":          "taking my dads gun to school tomorrow",
	"f-method-think":       "i keep imagining stepping in front of a bus",
	"f-leaving":            "leaving tonight and not coming back",
	"f-remote-means":       "im at the motel, i brought the pills and a bottle of whiskey",
	"f-harm-strong":        "im going to break his jaw",
	"f-harm-there2":        "got a gun, im driving there now",
	"f-od-taken-qty2":      "ive taken the whole packet, i just wanted someone to know",
	"f-sh-didit":           "my son has burn marks on his arms, he did it last night",
	"f-setfor-prep":        "deleted everything. its happening tonight",
	"f-ab-room-fear":       "my stepbrother just came into my room and locked the door",
	"f-harm-sched":         "the bat is in my boot. when he comes out tonight its over for him",
	"f-stalk-here":         "a man from the hostel followed me home and now hes trying the door handle",
	"f-giveaway-leave":     "rehomed the dog this afternoon. there wont be a next week",
	"f-leaving-method":     "going for a drive. not coming back. gonna find a lorry on the a1",
	"f-ab-room-now":        "the man my mum brought home is trying to open my room, i put a chair against the door",
	"f-harm-wait":          "waiting behind the gym with a machete for him, he gets what he deserves. im using it",
}

// firedFactors lists the factors that fire for text, before any is judged
// (a factor can fire and still be cancelled by its context).
func firedFactors(d *RuleDetector, text string) []string {
	sc := newScratch()
	d.c.normalize(text, sc)
	if !d.c.mayAlarm(sc.toks) {
		return nil
	}
	d.c.findMatches(sc)
	n := len(sc.matches)
	d.c.score(text, sc)
	var ids []string
	for _, m := range sc.matches[min(n, len(sc.matches)):] {
		ids = append(ids, d.c.rules[m.r].id)
	}
	return ids
}

func TestEveryFactorFires(t *testing.T) {
	d := NewRuleDetector(nil)
	for _, ri := range d.c.factors {
		id := d.c.rules[ri].id
		text, ok := factorExamples[id]
		if !ok {
			t.Errorf("factor %s has no example in factorExamples", id)
			continue
		}
		if got := firedFactors(d, text); !slices.Contains(got, id) {
			t.Errorf("%s: %q fires %v\n%s", id, text, got, d.Explain(text))
		}
		if v := d.Detect(text); v.Severity < High && d.c.rules[ri].flags&fWeak == 0 {
			t.Errorf("%s: %q scores %s, want high or imminent", id, text, v.Severity)
		}
	}
}
