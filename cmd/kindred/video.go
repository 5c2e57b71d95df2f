package main

import (
	"errors"
	"log/slog"
	"sync/atomic"

	"github.com/kindred-health/kindred/chat/server"
	"github.com/kindred-health/kindred/signaling"
)

// videoFlags are serve's video settings: on or off, the size of a
// session, and where media flows (videoflags.go).
type videoFlags struct {
	on              *bool
	maxParticipants *int
	net             videoNetFlags
}

func addVideoFlags(fs *flagSet) videoFlags {
	return videoFlags{
		on: fs.Bool("video", true, "video sessions, forwarded by this node (an SFU); false: no media port is opened and video frames are refused with video_unavailable"),
		maxParticipants: fs.Int("video-max-participants", signaling.DefaultMaxParticipants,
			"most people in one video session, hosts included; more are refused with video_full"),
		net: addVideoNetFlags(fs),
	}
}

// check validates the video settings as far as can be without listening.
func (f videoFlags) check() error {
	if !*f.on {
		return nil
	}
	if *f.maxParticipants < 2 {
		return errors.New("--video-max-participants must be at least 2")
	}
	_, err := f.net.networkConfig()
	return err
}

// videoNode is the node's SFU with its media network. The SFU is built
// before the chat server and tells it of ended sessions (OnEnded), so it
// reaches the server through srv, set once the server exists.
type videoNode struct {
	net *signaling.Network
	sfu *signaling.SFU
	srv atomic.Pointer[server.Server]
}

// startVideo opens the media ports and builds the SFU; nil (and no
// error) when video is off.
func startVideo(f videoFlags, logger *slog.Logger) (*videoNode, error) {
	if !*f.on {
		return nil, nil
	}
	nc, err := f.net.networkConfig()
	if err != nil {
		return nil, err
	}
	n, err := signaling.ListenNetwork(nc, logger)
	if err != nil {
		return nil, err
	}
	v := &videoNode{net: n}
	v.sfu, err = signaling.New(signaling.Config{
		MaxParticipants: *f.maxParticipants,
		Configure:       n.Configure,
		ICEServers:      n.ICEServers,
		OnEnded:         v.ended,
		Logger:          logger,
	})
	if err != nil {
		_ = n.Close()
		return nil, err
	}
	logger.Info("video media listening", "udp", n.UDPAddr().String(), "ice_tcp", n.TCPAddr() != nil)
	return v, nil
}

func (v *videoNode) ended(s signaling.SessionInfo, reason string) {
	if srv := v.srv.Load(); srv != nil {
		srv.VideoEnded(s, reason)
	}
}

// SFU is the server.Config.Video of the node: nil without video.
func (v *videoNode) SFU() *signaling.SFU {
	if v == nil {
		return nil
	}
	return v.sfu
}

// attach points ended sessions' news at srv.
func (v *videoNode) attach(srv *server.Server) {
	if v != nil {
		v.srv.Store(srv)
	}
}

// close ends the sessions (server.Shutdown already has) and then closes
// the media ports their connections used.
func (v *videoNode) close() {
	if v == nil {
		return
	}
	v.sfu.Close()
	_ = v.net.Close()
}
