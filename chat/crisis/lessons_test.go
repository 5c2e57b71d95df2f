package crisis

import (
	"strings"
	"testing"
)

// Lessons folded in from the first hold-out set (holdout.tsv), generalised
// beyond the exact messages that were missed.

func TestVowelDropped(t *testing.T) {
	runCases(t, []phenomenonCase{
		is(High, Suicide, "i wnt to kll myslf"),
		is(High, Suicide, "i wanna kl myslf"),
		is(High, Suicide, "been thinking abt sucde a lot"),
		is(High, Suicide, "feeling sucidl again"),
		is(Imminent, Suicide, "gonna kll myslf tnght"),
		is(High, Suicide, "i wnt to die"),
		none("kl, see u at the meeting"),
		none("wnt to the store, back soon"),
	})
}

func TestRecentAbuseStaysHigh(t *testing.T) {
	runCases(t, []phenomenonCase{
		{text: "he forced himself on me last weekend", min: High, max: High, cat: Abuse, about: AboutSelf},
		is(High, Abuse, "my husband choked me last week and I'm still with him"),
		is(High, Abuse, "my boyfriend hit me a few days ago"),
		is(High, Abuse, "she slapped me two days ago in front of the kids"),
		is(High, Abuse, "he threatened to kill me last week"),
		is(High, Abuse, "my dad beat me yesterday"),
		// Self-harm in the near past is still lowered: the act is over.
		is(Concern, SelfHarm, "I cut last week for the first time in ages"),
	})
}

func TestStopBeingAliveAndReasons(t *testing.T) {
	runCases(t, []phenomenonCase{
		is(High, Suicide, "part of me wants to just stop being alive"),
		is(High, Suicide, "i kind of want to stop existing"),
		is(High, Suicide, "I need to not be here anymore"),
		is(High, Suicide, "I'm running out of reasons to live"),
		is(High, Suicide, "there are no reasons left to stay alive"),
		is(Concern, Suicide, "I'm running out of reasons to keep trying"),
		is(Concern, Suicide, "no reasons left honestly"),
		is(Concern, Suicide, "nothing left to fight for"),
		none("I want to stop living in fear of what people think"),
		none("the reasons I left my job are complicated"),
	})
}

func TestHighPlaces(t *testing.T) {
	runCases(t, []phenomenonCase{
		is(Imminent, Suicide, "I'm writing this from the bridge"),
		is(Imminent, Suicide, "typing this from the roof of my building"),
		is(Imminent, Suicide, "sitting on the edge of the roof"),
		is(Imminent, Suicide, "standing on the ledge"),
		is(Imminent, Suicide, "I'm on the bridge and I can't do this anymore"),
		is(Imminent, Suicide, "I'm up on the roof. nobody would even miss me"),
		is(Imminent, Suicide, "im at the top of the parking garage. goodbye everyone"),
		none("I'm on the roof fixing the gutter before the storm"),
		none("sitting on the balcony with my coffee, sober day 30"),
		none("we're at the bridge club tonight"),
		none("the bridge was closed so I'm late, sorry"),
	})
}

func TestSelfHarmEvidenceAboutOthers(t *testing.T) {
	runCases(t, []phenomenonCase{
		{text: "my teenage son has cuts on his arms and won't talk to me", min: Concern, max: Concern, cat: SelfHarm, about: AboutOther},
		{text: "I noticed scars on her wrists when she rolled up her sleeves", min: Concern, max: Concern, cat: SelfHarm, about: AboutOther},
		{text: "I keep finding bloody tissues in my daughter's trash", min: Concern, max: Concern, cat: SelfHarm, about: AboutOther},
		none("my son has a cut on his chin from hockey"),
	})
}

func TestFarewellsNeedFinalityOrCrisis(t *testing.T) {
	runCases(t, []phenomenonCase{
		// Sign-offs: a glance at most, never a page.
		{text: "Thanks for everything, love you all, bye!", min: None, max: Concern},
		{text: "thank you all for everything. love you all. goodbye everyone", min: None, max: Concern},
		{text: "I'm sorry for everything. goodbye", min: None, max: Concern},
		none("thanks for everything, see you next week!"),
		// Finality.
		is(Imminent, Suicide, "goodbye forever"),
		is(Imminent, Suicide, "this is my last message"),
		is(Imminent, Suicide, "I won't be here tomorrow"),
		is(Imminent, Suicide, "bye everyone. it was nice knowing you"),
		is(Imminent, Suicide, "goodbye cruel world"),
		is(Imminent, Suicide, "please don't blame yourselves. goodbye"),
		// A sign-off with a crisis signal nearby.
		is(Imminent, Suicide, "thanks for everything. I can't do this anymore. bye everyone"),
		is(Imminent, Suicide, "I'm so tired of fighting. love you all. goodbye"),
		is(Imminent, Suicide, "i want to die. goodbye"),
		// ... but not a hopeless remark many sentences away from a cheerful sign-off.
		{text: "work has felt pointless lately. " + strings.Repeat("We went to the lake on Sunday. ", 3) +
			"Anyway thanks for everything, love you all, bye!", min: Concern, max: Concern},
	})
}

func TestDevowelFromOperatorLexicon(t *testing.T) {
	ext, err := LoadLexicon(strings.NewReader("devowel hurt\n"))
	if err != nil {
		t.Fatal(err)
	}
	d := NewRuleDetector(DefaultLexicon().Merge(ext))
	if v := d.Detect("i want to hrt myslf"); v.Severity != High {
		t.Errorf("merged devowel word: %v", v.Severity)
	}
	if v := sharedDetector().Detect("i want to hrt myslf"); v.Severity != None {
		t.Errorf("default lexicon reads hrt (hormone therapy) as hurt: %v", v.Severity)
	}
}

// Many Englishes drop the g of -ing ("killin", "thinkin", "hidin") and
// spell myself as they say it ("meself", "masel"): the lexicon's -ing
// words take their g-dropped forms as aliases, and the idioms keep theirs.
func TestDroppedGAndMyselfSpellings(t *testing.T) {
	runCases(t, []phenomenonCase{
		is(High, Suicide, "been thinkin bout killin meself again"),
		is(High, Suicide, "cant stop thinkin about toppin masel"),
		is(Imminent, Abuse, "he's kickin the door in and i'm hidin in the wardrobe"),
		none("we were fishin all mornin, caught nothin"),
		none("just killin time before the meetin"),
		none("my back is killin me after movin house"),
		none("i was cuttin onions n cryin"),
	})
}
