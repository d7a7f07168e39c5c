// Package groupsapi serves the group routes of the HTTP API under
// /v1/channels/{id}/groups. It validates requests, checks that the
// channel is active, and asks the worker running the channel's session
// through package groups' request/reply protocol; the worker's answer, or
// why there was none, becomes the HTTP answer.
package groupsapi

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/pkg/groups"
	"github.com/wagate/wagate/pkg/httpapi"
	"github.com/wagate/wagate/pkg/messaging"
	"github.com/wagate/wagate/pkg/ownerclient"
)

// Config configures the group routes.
type Config = ownerclient.Config

// Handlers serves the group routes.
type Handlers struct {
	*ownerclient.Client
}

// NewHandlers returns the handlers.
func NewHandlers(cfg Config) *Handlers {
	return &Handlers{Client: ownerclient.New(cfg)}
}

// Mount registers the routes behind auth.
func (h *Handlers) Mount(r *gin.Engine, auth gin.HandlerFunc) {
	g := h.Routes(r, "/groups", auth, "groups")
	g.GET("", h.list)
	g.POST("", h.create)
	g.GET("/:gid", h.info)
	g.POST("/:gid/participants", h.participants)
	g.POST("/:gid/leave", h.leave)
	g.GET("/:gid/invite", h.invite)
	g.POST("/:gid/invite/reset", h.resetInvite)
	g.POST("/join", h.join)
	g.PATCH("/:gid", h.update)
	g.PUT("/:gid/picture", h.setPicture)
	g.DELETE("/:gid/picture", h.removePicture)
}

// call asks the channel's worker, decoding its result into result. When
// it fails it answers the request and returns false.
func (h *Handlers) call(c *gin.Context, method string, p groups.Params, result any) bool {
	return h.Ask(c, method, p, result, nil)
}

// GroupList is the answer of GET …/groups.
type GroupList struct {
	Data []groups.Group `json:"data"`
}

func (h *Handlers) list(c *gin.Context) {
	var list []groups.Group
	if !h.call(c, groups.MethodList, groups.Params{}, &list) {
		return
	}
	if list == nil {
		list = []groups.Group{}
	}
	c.JSON(http.StatusOK, GroupList{Data: list})
}

func (h *Handlers) info(c *gin.Context) {
	gid, err := groupID(c.Param("gid"))
	if err != nil {
		httpapi.Abort(c, err)
		return
	}
	var g groups.Group
	if h.call(c, groups.MethodInfo, groups.Params{Group: gid}, &g) {
		c.JSON(http.StatusOK, g)
	}
}

// CreateRequest is the body of POST …/groups.
type CreateRequest struct {
	Name         string   `json:"name"`
	Participants []string `json:"participants"`
}

func (h *Handlers) create(c *gin.Context) {
	var r CreateRequest
	if err := httpapi.Bind(c, &r, 0, false); err != nil {
		httpapi.Abort(c, err)
		return
	}
	r.Name = strings.TrimSpace(r.Name)
	if n := utf8.RuneCountInString(r.Name); n == 0 || n > groups.MaxNameLength {
		httpapi.Abort(c, httpapi.Validation("name", "is required: 1 to %d characters", groups.MaxNameLength))
		return
	}
	jids, verr := participants(r.Participants)
	if verr != nil {
		httpapi.Abort(c, verr)
		return
	}
	key, kerr := httpapi.IdempotencyKey(c)
	if kerr != nil {
		httpapi.Abort(c, kerr)
		return
	}
	var g groups.Created
	if h.call(c, groups.MethodCreate, groups.Params{Name: r.Name, Participants: jids, Key: key}, &g) {
		c.JSON(http.StatusCreated, g)
	}
}

// ParticipantsRequest is the body of POST …/groups/{gid}/participants.
type ParticipantsRequest struct {
	Action       string   `json:"action"`
	Participants []string `json:"participants"`
}

func (h *Handlers) participants(c *gin.Context) {
	gid, gerr := groupID(c.Param("gid"))
	if gerr != nil {
		httpapi.Abort(c, gerr)
		return
	}
	var r ParticipantsRequest
	if err := httpapi.Bind(c, &r, 0, false); err != nil {
		httpapi.Abort(c, err)
		return
	}
	if !slices.Contains(groups.Actions, r.Action) {
		httpapi.Abort(c, httpapi.Validation("action", "must be one of %s", strings.Join(groups.Actions, ", ")))
		return
	}
	jids, verr := participants(r.Participants)
	if verr != nil {
		httpapi.Abort(c, verr)
		return
	}
	var res groups.Changed
	if h.call(c, groups.MethodParticipants, groups.Params{Group: gid, Action: r.Action, Participants: jids}, &res) {
		c.JSON(http.StatusOK, res)
	}
}

func (h *Handlers) leave(c *gin.Context) {
	gid, gerr := groupID(c.Param("gid"))
	if gerr != nil {
		httpapi.Abort(c, gerr)
		return
	}
	var empty struct{}
	if err := httpapi.Bind(c, &empty, 0, true); err != nil {
		httpapi.Abort(c, err)
		return
	}
	var res groups.Left
	if h.call(c, groups.MethodLeave, groups.Params{Group: gid}, &res) {
		c.JSON(http.StatusOK, res)
	}
}

func (h *Handlers) invite(c *gin.Context) {
	gid, gerr := groupID(c.Param("gid"))
	if gerr != nil {
		httpapi.Abort(c, gerr)
		return
	}
	var inv groups.Invite
	if h.call(c, groups.MethodInvite, groups.Params{Group: gid}, &inv) {
		c.JSON(http.StatusOK, inv)
	}
}

func (h *Handlers) resetInvite(c *gin.Context) {
	gid, gerr := groupID(c.Param("gid"))
	if gerr != nil {
		httpapi.Abort(c, gerr)
		return
	}
	var empty struct{}
	if err := httpapi.Bind(c, &empty, 0, true); err != nil {
		httpapi.Abort(c, err)
		return
	}
	var inv groups.Invite
	if h.call(c, groups.MethodInvite, groups.Params{Group: gid, Reset: true}, &inv) {
		c.JSON(http.StatusOK, inv)
	}
}

// JoinRequest is the body of POST …/groups/join.
type JoinRequest struct {
	// Invite is the invite link (https://chat.whatsapp.com/<code>) or
	// its code.
	Invite string `json:"invite"`
}

func (h *Handlers) join(c *gin.Context) {
	var r JoinRequest
	if err := httpapi.Bind(c, &r, 0, false); err != nil {
		httpapi.Abort(c, err)
		return
	}
	code, ok := groups.ParseInvite(r.Invite)
	if !ok {
		httpapi.Abort(c, httpapi.Validation("invite", "is required: an invite link %s<code> or its code", groups.InviteLinkPrefix))
		return
	}
	var j groups.Joined
	if h.call(c, groups.MethodJoin, groups.Params{Invite: code}, &j) {
		c.JSON(http.StatusOK, j)
	}
}

// UpdateRequest is the body of PATCH …/groups/{gid}: the settings to
// change.
type UpdateRequest = groups.Update

func (h *Handlers) update(c *gin.Context) {
	gid, gerr := groupID(c.Param("gid"))
	if gerr != nil {
		httpapi.Abort(c, gerr)
		return
	}
	var r UpdateRequest
	if err := httpapi.Bind(c, &r, 0, false); err != nil {
		httpapi.Abort(c, err)
		return
	}
	if r.Empty() {
		httpapi.Abort(c, httpapi.Validation("body", "nothing to change: give name, description, announce or locked"))
		return
	}
	if r.Name != nil {
		name := strings.TrimSpace(*r.Name)
		if n := utf8.RuneCountInString(name); n == 0 || n > groups.MaxNameLength {
			httpapi.Abort(c, httpapi.Validation("name", "1 to %d characters", groups.MaxNameLength))
			return
		}
		r.Name = &name
	}
	if r.Description != nil && utf8.RuneCountInString(*r.Description) > groups.MaxTopicLength {
		httpapi.Abort(c, httpapi.Validation("description", "at most %d characters (\"\" removes it)", groups.MaxTopicLength))
		return
	}
	var g groups.Group
	if h.call(c, groups.MethodUpdate, groups.Params{Group: gid, Update: &r}, &g) {
		c.JSON(http.StatusOK, g)
	}
}

func (h *Handlers) setPicture(c *gin.Context) {
	gid, gerr := groupID(c.Param("gid"))
	if gerr != nil {
		httpapi.Abort(c, gerr)
		return
	}
	body, err := httpapi.ReadJPEG(c, groups.MaxPicture, "a group picture")
	if err != nil {
		httpapi.Abort(c, err)
		return
	}
	var res groups.PictureSet
	if h.call(c, groups.MethodPicture, groups.Params{Group: gid, JPEG: body}, &res) {
		c.JSON(http.StatusOK, res)
	}
}

func (h *Handlers) removePicture(c *gin.Context) {
	gid, gerr := groupID(c.Param("gid"))
	if gerr != nil {
		httpapi.Abort(c, gerr)
		return
	}
	var res groups.PictureRemoved
	if h.call(c, groups.MethodPicture, groups.Params{Group: gid, Remove: true}, &res) {
		c.JSON(http.StatusOK, res)
	}
}

var groupRE = regexp.MustCompile(`^[0-9]{5,20}(-[0-9]{5,20})?@g\.us$`)

// groupID accepts a group's JID, or its number alone.
func groupID(v string) (string, *httpapi.Error) {
	if !strings.Contains(v, "@") {
		v += "@g.us"
	}
	if !groupRE.MatchString(v) {
		return "", httpapi.Validation("gid", "%q is not a group id (a JID like 120363012345678901@g.us, or its number)", v)
	}
	return v, nil
}

// participants normalises phone numbers and JIDs of people to JIDs,
// dropping duplicates.
func participants(vs []string) ([]string, *httpapi.Error) {
	if len(vs) == 0 || len(vs) > groups.MaxParticipants {
		return nil, httpapi.Validation("participants", "needs 1 to %d phone numbers or JIDs", groups.MaxParticipants)
	}
	out := make([]string, 0, len(vs))
	for i, v := range vs {
		jid, ok := messaging.NormalizeRecipient(v)
		if !ok || strings.HasSuffix(jid, "@g.us") {
			field := fmt.Sprintf("participants[%d]", i)
			return nil, httpapi.Validation(field, "%q is not a phone number in international form or a user JID", v)
		}
		if !slices.Contains(out, jid) {
			out = append(out, jid)
		}
	}
	return out, nil
}
