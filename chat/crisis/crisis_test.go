package crisis

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
)

var sharedDetector = sync.OnceValue(func() *RuleDetector { return NewRuleDetector(nil) })

type phenomenonCase struct {
	text  string
	min   Severity // detected severity must be >= min
	max   Severity // and <= max
	cat   Category // when set, must be among the categories
	about string   // when set, must equal Verdict.About
}

func runCases(t *testing.T, cases []phenomenonCase) {
	t.Helper()
	d := sharedDetector()
	for _, c := range cases {
		v := d.Detect(c.text)
		if v.Severity < c.min || v.Severity > c.max {
			t.Errorf("%q: severity %s, want %s..%s (evidence %v)\n%s", c.text, v.Severity, c.min, c.max, ruleIDs(v), d.Explain(c.text))
			continue
		}
		if c.cat != "" {
			found := false
			for _, g := range v.Categories {
				found = found || g == c.cat
			}
			if !found {
				t.Errorf("%q: categories %v, want %s among them", c.text, v.Categories, c.cat)
			}
		}
		if c.about != "" && v.About != c.about {
			t.Errorf("%q: about %q, want %q", c.text, v.About, c.about)
		}
		checkEvidence(t, c.text, v)
	}
}

// checkEvidence verifies that every span points into the original text.
func checkEvidence(t *testing.T, text string, v Verdict) {
	t.Helper()
	if v.Severity == None && (len(v.Evidence) > 0 || len(v.Categories) > 0 || v.About != "") {
		t.Errorf("%q: a none verdict carries evidence, categories or about: %+v", text, v)
	}
	if v.Severity > None && len(v.Evidence) == 0 {
		t.Errorf("%q: %s verdict without evidence", text, v.Severity)
	}
	for _, e := range v.Evidence {
		if e.Start < 0 || e.End > len(text) || e.Start >= e.End || text[e.Start:e.End] != e.Text || e.Rule == "" {
			t.Errorf("%q: bad span %+v", text, e)
		}
	}
}

func none(text string) phenomenonCase { return phenomenonCase{text: text, min: None, max: None} }
func atLeast(s Severity, cat Category, text string) phenomenonCase {
	return phenomenonCase{text: text, min: s, max: Imminent, cat: cat}
}
func is(s Severity, cat Category, text string) phenomenonCase {
	return phenomenonCase{text: text, min: s, max: s, cat: cat}
}

func TestNegation(t *testing.T) {
	runCases(t, []phenomenonCase{
		none("I don't want to die"),
		none("I'm not going to hurt myself"),
		none("never thought about suicide"),
		none("I would never kill myself, my kids need me"),
		none("I'm not suicidal, just exhausted"),
		none("no thoughts of hurting myself today"),
		none("I promise I won't do anything to hurt myself"),
		none("I haven't had thoughts of suicide in a long time"),
		none("I'm not going to drink tonight"),
		// Negation that does not negate the danger:
		is(High, Suicide, "I can't stop thinking about killing myself"),
		is(High, Suicide, "I don't want to live anymore"),
		is(High, SelfHarm, "I can't promise I won't hurt myself"),
		is(High, Suicide, "not gonna lie, I want to die"),
		is(High, Suicide, "I don't know why I still want to kill myself"),
		is(High, Suicide, "I don't want to be alive"),
		// A negation only reaches into its own clause.
		is(High, Suicide, "I'm not okay, I want to die"),
		is(High, Suicide, "i dont know what to do i want to kill myself"),
	})
}

func TestIdiomsAndJokes(t *testing.T) {
	runCases(t, []phenomenonCase{
		none("this traffic is killing me"),
		none("I'd kill for a coffee"),
		none("dying to see it"),
		none("my feet are killing me"),
		none("I could murder a pizza"),
		none("lol I'm dead"),
		none("that episode killed me 😂😂"),
		none("this cake is to die for"),
		none("I nearly died laughing"),
		none("my phone is dying, talk later"),
		none("she's going to kill me for being late lol"),
		none("I killed it at my interview!!"),
		none("I'm dead tired"),
		none("we're hanging out at the park later"),
		none("I cut my hair tonight, feeling brave"),
		none("the new Suicide Squad trailer is out"),
		none("going to the bridge club tonight with grandma"),
		none("can you shoot me a message when you're free"),
		none("I need to catch the bus to work at 7"),
		// Jokes about oneself are still a glance for a supervisor, never more.
		is(Concern, Suicide, "this homework makes me want to die lol"),
		is(Concern, Suicide, "kms lmao the wifi is down again"),
		// ...unless the writer says they are not joking.
		is(High, Suicide, "i want to die lol. not joking"),
	})
}

func TestPastVersusPresent(t *testing.T) {
	runCases(t, []phenomenonCase{
		none("a year ago I tried to end it, today I'm 12 months clean"),
		none("two years ago I was suicidal every day, now I help run this group"),
		none("I used to cut myself, but I stopped in 2019"),
		none("when I was 17 I overdosed, I've been sober for 6 years now"),
		// A rule's words do not run on into the next sentence: "end my
		// life. today" is not "end my life today".
		none("two years ago i tried to end my life. today i took my daughter to her first swim lesson"),
		is(Imminent, Suicide, "I'm going to end my life today"),
		is(High, Suicide, "I tried to kill myself last night"),
		is(High, Suicide, "I was suicidal last year and I'm feeling that way again"),
		is(High, Suicide, "I used to be happy, now I want to die"),
		atLeast(High, SelfHarm, "I relapsed and cut myself again yesterday"),
		is(Concern, SelfHarm, "I cut last week for the first time in ages"),
		// "in 2019" is a year gone; "in 10 min" and "in 9 months" are not.
		none("back in 2012 I tried to hang myself, today I run a recovery cafe"),
		atLeast(High, Abuse, "he said he's going to kill me when he gets home in 10 min"),
		is(Imminent, Overdose, "first time using in 9 months, did my old amount and my chest is tight"),
	})
}

// TestReportedSpeech: someone else at risk, described with the signs of a
// high risk, is high (docs/crisis-labels.md), and About says whose risk.
func TestReportedSpeech(t *testing.T) {
	runCases(t, []phenomenonCase{
		{text: "my sister said she wants to die", min: High, max: High, cat: Suicide, about: AboutOther},
		{text: "my friend keeps talking about killing himself", min: High, max: High, cat: Suicide, about: AboutOther},
		{text: "my son has been cutting himself and I don't know how to help", min: High, max: High, cat: SelfHarm, about: AboutOther},
		{text: "my brother texted that he's going to kill himself tonight", min: Imminent, max: Imminent, cat: Suicide, about: AboutOther},
		{text: "my roommate swallowed a whole bottle of pills and she won't wake up", min: Imminent, max: Imminent, cat: Overdose, about: AboutOther},
		// The writer speaking about themselves to someone else is still self.
		{text: "I told my therapist I want to die", min: High, max: High, cat: Suicide, about: AboutSelf},
		// Abuse: the writer is the one at risk even though "he" acts.
		{text: "my boyfriend hits me when he's drunk", min: High, max: High, cat: Abuse, about: AboutSelf},
	})
}

func TestMethodPlanTime(t *testing.T) {
	runCases(t, []phenomenonCase{
		is(Imminent, Overdose, "I have the pills and I'm taking them tonight"),
		is(Imminent, Suicide, "goodbye everyone, this is my last message"),
		is(Imminent, Suicide, "the rope is ready"),
		is(Imminent, Suicide, "I'm going to kill myself tonight"),
		is(Imminent, Suicide, "I bought a gun today and I'm going to use it on myself"),
		is(Imminent, Suicide, "I'm going to jump off the bridge after work"),
		is(Imminent, Suicide, "I want to die and I have the pills right here"),
		is(Imminent, Suicide, "I've decided. I'm going to end it this weekend"),
		is(Imminent, Overdose, "just took all my sleeping pills"),
		// Feelings with a time are not plans.
		is(High, Suicide, "feeling really suicidal tonight"),
		is(High, Suicide, "I want to die right now"),
		// Ideation that names a method, without intent or means, stays high.
		is(High, Suicide, "I keep thinking about jumping in front of a train"),
		// Ordinary plans with times and medication.
		none("I have my new meds and I'm taking them tonight for the first time"),
		none("goodbye everyone, see you at Thursday's meeting!"),
		none("this is my last message for tonight, heading to bed"),
	})
}

func TestObfuscation(t *testing.T) {
	runCases(t, []phenomenonCase{
		is(High, Suicide, "i want to k i l l myself"),
		is(High, Suicide, "i want to k-i-l-l myself"),
		is(High, Suicide, "i keep thinking about suicdie"),
		is(High, Suicide, "i want to kil myself"),
		is(High, Suicide, "i want to kill my self"),
		is(High, Suicide, "I want to kіll myself"),                                       // Cyrillic і
		is(High, Suicide, "I wаnt tο die"),                                               // Cyrillic а, Greek ο
		is(High, Suicide, "Ｉ ｗａｎｔ ｔｏ ｄｉｅ"),                                               // fullwidth
		is(High, Suicide, "I want to d\u200bi\u200ce"),                                   // zero-width space and non-joiner
		is(High, Suicide, "I want to d\u0337i\u0337e\u0337"),                             // combining overlay marks
		is(High, Suicide, "I want to 𝐤𝐢𝐥𝐥 myself"),                                       // mathematical bold
		is(High, Suicide, "i wanna k1ll mys3lf"),                                         // leetspeak
		is(High, Suicide, "i w4nt t0 d13"),                                               // leetspeak
		is(High, Suicide, "I WANT TO KILL MYSELF"),                                       // caps
		is(High, Suicide, "i want to dieeeee"),                                           // stretched
		is(High, Suicide, "thinking about s u i c i d e"),                                // spaced
		is(High, Suicide, "ⓘ ⓦⓐⓝⓣ ⓣⓞ ⓓⓘⓔ"),                                               // circled letters
		atLeast(High, SelfHarm, "thinking about 🔪 myself again"),                         // emoji as a word
		is(Imminent, Overdose, "💊💊💊 tonight"),                                            // emoji means + time
		is(Imminent, Suicide, "🪦 soon. bye everyone"),                                    // emoji + farewell
		is(Imminent, Overdose, "i have the pills i am taking them tonight nobody cares"), // no punctuation
		none("my 1 year chip!!! 🎉 so proud"),
		none("50mg at 3am, 12th day, all good"),
	})
}

func TestSlang(t *testing.T) {
	runCases(t, []phenomenonCase{
		is(High, Suicide, "kms"),
		is(High, Suicide, "honestly might just kms"),
		is(High, Suicide, "i want to unalive myself"),
		is(High, Suicide, "sewerslide is looking good rn"),
		is(High, Suicide, "been thinking about ctb"),
		is(High, Suicide, "thinking about catching the bus, and not the one to town"),
		is(High, Suicide, "I want to end it all"),
		is(High, Suicide, "i just want to not be here anymore"),
		is(Imminent, Suicide, "ctb tonight"),
		is(Imminent, Overdose, "gonna od tonight"),
		atLeast(High, Overdose, "i'm going to relapse and use everything I have"),
		is(Concern, Relapse, "I want to use so bad"),
	})
}

func TestEvidenceOffsetsAreOriginal(t *testing.T) {
	d := sharedDetector()
	text := "Ｉ ｗａｎｔ ｔｏ ｋｉｌｌ ｍｙｓｅｌｆ"
	v := d.Detect(text)
	if v.Severity < High || len(v.Evidence) == 0 {
		t.Fatalf("got %+v", v)
	}
	e := v.Evidence[0]
	if text[e.Start:e.End] != e.Text || !strings.Contains(e.Text, "ｋｉｌｌ") {
		t.Errorf("span %+v does not point at the fullwidth original", e)
	}
	text = "so... i want to k i l l myself"
	v = d.Detect(text)
	if len(v.Evidence) == 0 || !strings.HasSuffix(v.Evidence[len(v.Evidence)-1].Text, "k i l l myself") {
		t.Errorf("spaced-out span: %+v", v.Evidence)
	}
}

func TestVerdictJSON(t *testing.T) {
	v := sharedDetector().Detect("I want to die")
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var back Verdict
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Severity != v.Severity || back.About != v.About || len(back.Evidence) != len(v.Evidence) {
		t.Errorf("round trip: %+v -> %s -> %+v", v, b, back)
	}
	if !strings.Contains(string(b), `"severity":"high"`) {
		t.Errorf("severity not encoded by name: %s", b)
	}
}

func TestSeverityText(t *testing.T) {
	for s := None; s <= Imminent; s++ {
		b, err := s.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back Severity
		if err := back.UnmarshalText(b); err != nil || back != s {
			t.Errorf("%s: round trip gave %v, %v", s, back, err)
		}
		if s.String() != string(b) {
			t.Errorf("String %q != text %q", s.String(), b)
		}
	}
	var s Severity
	if err := s.UnmarshalText([]byte("HIGH")); err != nil || s != High {
		t.Errorf("case-insensitive parse: %v %v", s, err)
	}
	if err := s.UnmarshalText([]byte("urgent")); err == nil {
		t.Error("unknown severity accepted")
	}
	if _, err := Severity(9).MarshalText(); err == nil {
		t.Error("out-of-range severity marshalled")
	}
}

func TestDetectIsConcurrencySafe(t *testing.T) {
	d := sharedDetector()
	msgs := []string{"I want to die", "this traffic is killing me", "goodbye everyone, this is my last message", ""}
	want := make([]Severity, len(msgs))
	for i, m := range msgs {
		want[i] = d.Detect(m).Severity
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				k := (g + i) % len(msgs)
				if got := d.Detect(msgs[k]).Severity; got != want[k] {
					t.Errorf("%q: %s, want %s", msgs[k], got, want[k])
					return
				}
			}
		}(g)
	}
	wg.Wait()
}

func TestOddInputs(t *testing.T) {
	d := sharedDetector()
	for _, s := range []string{
		"", " ", "\n\n", "\xff\xfe invalid utf8 \xc3", strings.Repeat("a ", 5000),
		strings.Repeat("k ", 300), strings.Repeat("🔪", 200), "'''\"\"\"", "$$$ !!! @@@ |||",
		strings.Repeat("i want to ", 400) + "die",
	} {
		v := d.Detect(s)
		checkEvidence(t, s, v)
	}
	if v := d.Detect(strings.Repeat("blah ", 2000) + "I want to kill myself"); v.Severity < High {
		t.Errorf("signal at the end of a long message missed: %v", v.Severity)
	}
}
