package crisis

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestFactors checks each risk factor of factors.txt and the severity its
// combination gives (the table at the top of that file), and that the
// context handling of signals applies to factors: negation, past tense,
// idioms, humour and reported speech.
func TestFactors(t *testing.T) {
	d := NewRuleDetector(nil)
	cases := []struct {
		text   string
		sev    Severity
		factor string // a factor that must be in the evidence ("" for none)
		about  string
	}{
		// suicide: wish to be dead, active thoughts, method, access, time, preparation
		{"honestly wouldnt mind not waking up ngl", High, "f-deathwish", AboutSelf},
		{"if i died in my sleep i would be grateful", High, "f-ifdie", AboutSelf},
		{"the voices keep telling me to jump", High, "f-voices", AboutSelf},
		{"i keep thinking about swerving my car into a tree", High, "f-crash", AboutSelf},
		{"the rope is in the garage and i bought it today, doing it tonight", Imminent, "", AboutSelf},
		{"wrote letters to everyone and left them on the table", Imminent, "f-prep", AboutSelf},
		{"gave my cat to my sister. i wont need to worry about her anymore", Imminent, "f-giveaway", AboutSelf},
		{"stockpiled my meds for weeks and im taking them tonight", Imminent, "f-stock-now", AboutSelf},
		// a clock time is a time; "intend to" is intent; a gun's trigger is
		// a method; a garage sealed round a running engine is preparation
		{"i intend to kill myself at 3am", Imminent, "", AboutSelf},
		{"i have 40 tablets saved and im going to take them tonight", Imminent, "", AboutSelf},
		{"about to pull the trigger. sorry everyone", Imminent, "", AboutSelf},
		{"the garage is sealed with towels and the engine is running", Imminent, "f-prep", AboutSelf},
		// overdose: amount, substance, body effects, tolerance, alone
		{"took 2 bars and been drinking, everything is spinning", Imminent, "f-od-taken-fx", AboutSelf},
		{"first time back after 9 months clean, used alone in my car", Imminent, "f-od-tol-alone", AboutSelf},
		{"he used fent and now his lips are blue", Imminent, "f-od-sub-fx", AboutOther},
		{"he took fent at the party and now hes floppy", Imminent, "", AboutOther},
		{"thinking of mixing my methadone with benzos, gonna take more", High, "f-od-intent-qty", AboutSelf},
		// abuse
		{"my stepdad comes into my room at night when mum is asleep", High, "f-ab-night", AboutSelf},
		{"my bf takes my keys so i cant leave the house", High, "f-ab-control", AboutSelf},
		{"my ex found out where i live and he is outside my door right now", Imminent, "f-ab-here-now", AboutSelf},
		// harm to others: weapon + target + time
		// (the phrase rule harm-hurt ties at imminent and, as the writer wins a
		// tie, sets About; "*" skips that check)
		{"im going to stab my boss with a knife tomorrow", Imminent, "f-harm-now", "*"},
		// self-harm other than cutting
		{"i dug my nails into my arms until they bled", High, "f-sh-bleed", AboutSelf},
		{"desperate to cut, please talk to me", High, "f-sh-act", AboutSelf},
		// someone else at risk keeps the severity of the factor
		{"my sponsee keeps saying she's a burden and nobody would miss her", High, "f-deathwish", AboutOther},
		// context: negation, past tense, idioms, humour, topic, medication
		{"i dont have the pills and im not going to do anything tonight", None, "", ""},
		{"two years ago i took a handful of pills and couldnt breathe", None, "", ""},
		{"gave away my old clothes to the shelter today, felt good", None, "", ""},
		{"ugh burned my hand on the oven tray", None, "", ""},
		{"i'll shoot you an email about my boss tomorrow", None, "", ""},
		{"just a reminder that mixing benzos and alcohol is dangerous", None, "", ""},
		{"6 months clean from meth, grateful for this group", None, "", ""},
		{"I have my new pills and I'm taking them tonight for the first time", None, "", ""},
		{"thinking about pulling the trigger on a new car tonight", None, "", ""},
		{"i intend to go to my meeting at 7pm tonight", None, "", ""},
		{"I have 30 tablets left on my prescription, picking up more at 3pm", None, "", ""},
		{"the garage is sealed for the winter, car is in storage", None, "", ""},
		{"finally tied the knot last weekend, best day ever", None, "", ""},
		{"the garage is sealed up tight so the engine doesnt freeze overnight", None, "", ""},
		{"my car is taped up after the accident, exhaust is hanging off", None, "", ""},
		{"im ready to pull the trigger and sign up for the 5k", None, "", ""},
		{"had a couple of beers and i keep dropping off in front of the tv", None, "", ""},
		{"we are planning where to go for dinner at 7pm", None, "", ""},
		{"got 2 pills left of my antibiotics", None, "", ""},
	}
	for _, c := range cases {
		v := d.Detect(c.text)
		ids := ruleIDs(v)
		if v.Severity != c.sev || (c.about != "*" && v.About != c.about) || (c.factor != "" && !slices.Contains(ids, c.factor)) {
			t.Errorf("%q: got %s about %q %v, want %s about %q with %s\n%s", c.text, v.Severity, v.About, ids, c.sev, c.about, c.factor, d.Explain(c.text))
		}
	}
}

// TestFactorFileIDs keeps the ids of factors.txt apart from lexicon.txt's:
// merging would silently replace a rule of the same id.
func TestFactorFileIDs(t *testing.T) {
	lex, err := parseLexicon(strings.NewReader(defaultLexiconText), nil)
	if err != nil {
		t.Fatal(err)
	}
	fac, err := parseLexicon(strings.NewReader(defaultFactorsText), lex.classes)
	if err != nil {
		t.Fatal(err)
	}
	terms := map[string]bool{}
	for _, r := range fac.rules {
		if lex.HasRule(r.id) {
			t.Errorf("factors.txt rule %s has the id of a lexicon.txt rule", r.id)
		}
		if r.kind == kTerm {
			terms[r.subject] = true
		}
	}
	for _, r := range fac.rules {
		for _, el := range r.need {
			for _, c := range el {
				if !terms[c] {
					t.Errorf("factor %s needs class %q, which no term defines", r.id, c)
				}
			}
		}
	}
}

func TestParseFactorErrors(t *testing.T) {
	for _, src := range []string{
		"factor f suicide high = \n",
		"factor f suicide high = a + B\n",
		"factor f suicide high = a + b + c + d + e\n",
		"term t = pills\n",
		"term t A = pills\n",
	} {
		if _, err := LoadLexicon(strings.NewReader(src)); err == nil {
			t.Errorf("%q: no error", src)
		}
	}
}

// TestTooManyTermClasses: LoadLexicon refuses a file whose term classes,
// with the default's, exceed maxTermClasses; a lexicon merged without
// that check still compiles, the extra classes filling nothing.
func TestTooManyTermClasses(t *testing.T) {
	var b strings.Builder
	for i := range maxTermClasses {
		fmt.Fprintf(&b, "term x-%d xclass%d = zzword%d\n", i, i, i)
	}
	b.WriteString("factor x-f suicide high = xclass0\n")
	if _, err := LoadLexicon(strings.NewReader(b.String())); err == nil {
		t.Fatal("no error for too many term classes")
	}
	own, err := parseLexicon(strings.NewReader(b.String()), DefaultLexicon().classes)
	if err != nil {
		t.Fatal(err)
	}
	d := NewRuleDetector(DefaultLexicon().Merge(own))
	if v := d.Detect("i took 20 pills of xanax"); v.Severity != Imminent {
		t.Errorf("the default factors broke: %s", v.Severity)
	}
	d.Detect("zzword0 zzword70") // must not panic
}
