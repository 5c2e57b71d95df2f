package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"text/tabwriter"
)

// videoReport is what `kindred-bench video` prints, and writes with --json.
type videoReport struct {
	Workload   string        `json:"workload"` // "video"
	URL        string        `json:"url"`
	RunID      string        `json:"run_id"`
	Settings   videoSettings `json:"settings"`
	LoadAvg    string        `json:"load_average_before"`
	JoinPhaseS float64       `json:"join_phase_s"`
	WindowS    float64       `json:"window_s"`

	Participants struct {
		Target    int              `json:"target"`
		Connected int              `json:"connected"`
		Failures  map[string]int64 `json:"failures,omitempty"`
	} `json:"participants"`
	Errors map[string]int64 `json:"errors,omitempty"`

	Forwarded struct {
		VideoExpected     int     `json:"video_tracks_expected"`
		VideoTracks       float64 `json:"video_tracks"` // mean receiving at once in the window
		VideoTrackSeconds int64   `json:"video_track_seconds"`
		VideoAny          int64   `json:"video_tracks_any"`
		VideoFull         int64   `json:"video_tracks_every_second"`
		AudioTracks       float64 `json:"audio_tracks"`
		AudioAny          int64   `json:"audio_tracks_any"`
		// Video packets all subscribers received in each second of the
		// window: a stall shows as a dip.
		VideoPerSecond []int64 `json:"video_packets_per_second"`
		// Video packets received in the window ÷ what the track-seconds
		// should have carried: well under 1 means tracks counted as
		// forwarded were starved (a busy machine), and the figure per
		// track is flattered.
		VideoPacketRatio float64 `json:"video_packet_ratio"`
	} `json:"forwarded"`

	Server struct {
		Scraped            bool    `json:"scraped"`
		CPUSeconds         float64 `json:"cpu_seconds"`
		Cores              float64 `json:"cores"`
		IdleCores          float64 `json:"idle_cores_before"`
		CPUPerTrackSecond  float64 `json:"cpu_seconds_per_video_track_second"`
		VideoTracksPerCore float64 `json:"video_tracks_per_core"`
		RSSBeforeBytes     int64   `json:"rss_before"`
		RSSDuringBytes     int64   `json:"rss_during"`
		RSSPerParticipant  float64 `json:"rss_per_participant"`
	} `json:"server"`

	Join struct {
		Participants int64     `json:"participants"`
		Connected    latReport `json:"media_connected_ms"`
		FirstVideo   latReport `json:"first_remote_video_ms"`
		AllVideo     latReport `json:"all_remote_video_ms"`
		PerTrack     latReport `json:"each_remote_video_ms"`
		FirstKey     latReport `json:"each_remote_keyframe_ms"`
		Missing      int64     `json:"remote_video_never_received"`
	} `json:"join"`

	Packets struct {
		VideoSent     int64 `json:"video_sent"`
		AudioSent     int64 `json:"audio_sent"`
		VideoReceived int64 `json:"video_received"`
		AudioReceived int64 `json:"audio_received"`
		VideoLost     int64 `json:"video_lost"`
		AudioLost     int64 `json:"audio_lost"`
		VideoLate     int64 `json:"video_late"`
		AudioLate     int64 `json:"audio_late"`
		Duplicates    int64 `json:"duplicates"`
		Keyframes     int64 `json:"keyframes_sent"`
		KeyRequests   int64 `json:"keyframe_requests_received"`
	} `json:"packets"`

	Tool struct {
		CPUSeconds float64 `json:"cpu_seconds"`
		Cores      float64 `json:"cores"`
	} `json:"tool"`
	Host *hostReport `json:"host,omitempty"`
}

type videoSettings struct {
	Sessions  int     `json:"sessions"`
	People    int     `json:"people"`
	DurationS float64 `json:"duration_s"`
	WarmupS   float64 `json:"warmup_s"`
	VideoKbps float64 `json:"video_kbps"`
	FPS       int     `json:"fps"`
	AudioKbps float64 `json:"audio_kbps"`
	KeyEveryS float64 `json:"keyframe_interval_s"`
}

// report builds the report from the window's scrapes (start, end; before
// is before anyone signed in) and what the participants saw.
func (r *videoRun) report(w window, before, start, end sample, toolCPU float64, host *hostReport) *videoReport {
	c := r.cfg
	rep := &videoReport{Workload: "video", URL: c.url, RunID: r.runID, Settings: videoSettings{
		Sessions: c.sessions, People: c.people, DurationS: c.duration.Seconds(), WarmupS: c.warmup.Seconds(),
		VideoKbps: c.videoKbps, FPS: c.fps, AudioKbps: c.audioKbps, KeyEveryS: c.keyEvery.Seconds()}}
	secs := w.end.Sub(w.start).Seconds()
	rep.WindowS = round2(secs)
	r.reportParticipants(rep)
	from, to := w.seconds(r.epoch)
	tt := r.tally(w)
	f := &rep.Forwarded
	f.VideoExpected = c.sessions * c.people * (c.people - 1)
	if n := float64(to - from); n > 0 {
		f.VideoTracks = round2(float64(tt.videoSeconds) / n)
		f.AudioTracks = round2(float64(tt.audioSeconds) / n)
	}
	f.VideoTrackSeconds, f.VideoAny, f.VideoFull, f.AudioAny = tt.videoSeconds, tt.videoAny, tt.videoFull, tt.audioAny
	f.VideoPerSecond = tt.videoPerSec
	if want := float64(tt.videoSeconds) * videoPacketRate(c); want > 0 {
		var got int64
		for _, n := range tt.videoPerSec {
			got += n
		}
		f.VideoPacketRatio = round3(float64(got) / want)
	}

	sv := &rep.Server
	if before != nil && start != nil && end != nil {
		sv.Scraped = true
		sv.CPUSeconds = round2(end["process_cpu_seconds_total"] - start["process_cpu_seconds_total"])
		sv.Cores = round3(sv.CPUSeconds / secs)
		if f.VideoTracks > 0 {
			// CPU per second over tracks forwarded at once: CPU seconds
			// per forwarded track-second.
			per := sv.CPUSeconds / secs / f.VideoTracks
			sv.CPUPerTrackSecond = math.Round(per*1e6) / 1e6
			if per > 0 {
				sv.VideoTracksPerCore = math.Round(1 / per)
			}
		}
		sv.RSSBeforeBytes = int64(before["process_resident_memory_bytes"])
		sv.RSSDuringBytes = int64(end["process_resident_memory_bytes"])
		if n := rep.Participants.Connected; n > 0 {
			sv.RSSPerParticipant = math.Round(float64(sv.RSSDuringBytes-sv.RSSBeforeBytes) / float64(n))
		}
	}
	j := &rep.Join
	j.Participants, j.Missing = tt.joinSamples, tt.joinMissing
	for dst, h := range map[*latReport]*hist{&j.Connected: tt.connect, &j.FirstVideo: tt.firstAny, &j.AllVideo: tt.firstAll, &j.PerTrack: tt.perTrack, &j.FirstKey: tt.firstKey} {
		s := h.snapshot()
		*dst = latencyOf(&s)
	}
	pk := &rep.Packets
	pk.VideoReceived, pk.AudioReceived, pk.VideoLost, pk.AudioLost, pk.Duplicates = tt.videoPackets, tt.audioPackets, tt.videoLost, tt.audioLost, tt.dups
	pk.VideoLate, pk.AudioLate = tt.videoLate, tt.audioLate
	for _, p := range r.parts {
		if p.pub != nil {
			pk.VideoSent += p.pub.videoPkts.Load()
			pk.AudioSent += p.pub.audioPkts.Load()
			pk.Keyframes += p.pub.keyframes.Load()
			pk.KeyRequests += p.pub.keyReqs.Load()
		}
	}
	rep.Tool.CPUSeconds, rep.Tool.Cores = round2(toolCPU), round3(toolCPU/secs)
	if host != nil {
		host.CoreSeconds, host.BusySeconds = round2(host.CoreSeconds), round2(host.BusySeconds)
		if isLoopbackURL(c.url) && sv.Scraped {
			host.OtherSeconds = round2(max(0, host.BusySeconds-sv.CPUSeconds-toolCPU))
		}
		rep.Host = host
	}
	rep.Errors = r.errs.snapshot()
	return rep
}

func (r *videoRun) reportParticipants(rep *videoReport) {
	ps := &rep.Participants
	ps.Target = len(r.parts)
	var fails countMap
	for _, p := range r.parts {
		if msg := p.failure.Load(); msg != nil {
			fails.add(*msg, 1)
		} else if p.connected.Load() != 0 {
			ps.Connected++
		}
	}
	ps.Failures = fails.snapshot()
}

// perSecondSummary gives the least, median and most of a per-second
// series, which is enough to see a stall.
func perSecondSummary(v []int64) string {
	if len(v) == 0 {
		return "none"
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return fmt.Sprintf("min %d / median %d / max %d", s[0], s[len(s)/2], s[len(s)-1])
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// printVideoReport writes the report for a person.
func printVideoReport(w io.Writer, rep *videoReport) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k string, format string, a ...any) {
		fmt.Fprintf(tw, "  %s\t"+format+"\n", append([]any{k}, a...)...)
	}
	s, f, sv, j, pk := rep.Settings, rep.Forwarded, rep.Server, rep.Join, rep.Packets
	fmt.Fprintf(tw, "kindred-bench video: %s × %d people, video %g kbit/s at %d fps, audio %g kbit/s, %gs (+%gs warm-up) against %s\n",
		plural(s.Sessions, "session"), s.People, s.VideoKbps, s.FPS, s.AudioKbps, s.DurationS, s.WarmupS, rep.URL)
	row("participants connected", "%d of %d%s (join phase %.1fs)", rep.Participants.Connected, rep.Participants.Target,
		kindsSuffix(rep.Participants.Failures), rep.JoinPhaseS)
	if len(rep.Errors) > 0 {
		row("errors", "%s", counts(rep.Errors))
	}
	fmt.Fprintln(tw, "forwarded (seen by subscribers, in the window)")
	row("video tracks", "%.1f at once of %d expected (%d with packets, %d in every second)", f.VideoTracks, f.VideoExpected, f.VideoAny, f.VideoFull)
	row("audio tracks", "%.1f at once (%d with packets)", f.AudioTracks, f.AudioAny)
	row("video packets per second", "%s; %.3f of what the tracks should carry", perSecondSummary(f.VideoPerSecond), f.VideoPacketRatio)
	fmt.Fprintln(tw, "server")
	if !sv.Scraped {
		row("metrics", "%s", "not scraped: no CPU or memory figures")
	}
	row("CPU", "%.2f s in %.1f s (%.3f cores; %.3f idle before anyone signed in)", sv.CPUSeconds, rep.WindowS, sv.Cores, sv.IdleCores)
	row("CPU per video track-second", "%.6f s → %.0f video tracks per core", sv.CPUPerTrackSecond, sv.VideoTracksPerCore)
	row("RSS before / during", "%s / %s → %.1f KiB per participant", mib(sv.RSSBeforeBytes), mib(sv.RSSDuringBytes), sv.RSSPerParticipant/1024)
	fmt.Fprintf(tw, "join → first remote video (%d participants joining others)\n", j.Participants)
	for _, l := range []struct {
		k string
		v latReport
	}{{"media connected (ICE, DTLS)", j.Connected}, {"first remote video track", j.FirstVideo}, {"all remote video tracks", j.AllVideo}, {"each remote video track", j.PerTrack}, {"each first key frame", j.FirstKey}} {
		row(l.k, "p50 %.1f / p99 %.1f / max %.1f ms (%d)", l.v.P50, l.v.P99, l.v.Max, l.v.Count)
	}
	row("remote video never received", "%d", j.Missing)
	fmt.Fprintln(tw, "packets (whole run)")
	row("sent video / audio", "%d / %d (%d key frames, %d key-frame requests)", pk.VideoSent, pk.AudioSent, pk.Keyframes, pk.KeyRequests)
	row("received video / audio", "%d / %d", pk.VideoReceived, pk.AudioReceived)
	row("lost video / audio (gaps)", "%d / %d (%d duplicates)", pk.VideoLost, pk.AudioLost, pk.Duplicates)
	row("late video / audio", "%d / %d (reordered, or resent on NACK)", pk.VideoLate, pk.AudioLate)
	fmt.Fprintln(tw, "tool and machine")
	row("tool CPU", "%.2f s (%.3f cores)", rep.Tool.CPUSeconds, rep.Tool.Cores)
	if h := rep.Host; h != nil {
		row("machine CPU in the window", "%.1f of %.1f core-seconds busy; other processes %.1f", h.BusySeconds, h.CoreSeconds, h.OtherSeconds)
	}
	row("load average before", "%s", rep.LoadAvg)
	return tw.Flush()
}

func writeVideoJSON(path string, rep *videoReport) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
