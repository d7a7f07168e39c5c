package client

// The arguments of the simulator's actions (Simulate), one type per
// OpenAPI schema Sim…Args. Unset members are left out: the simulator uses
// its defaults. Phone numbers are digits (an optional leading +) or JIDs.

// SimNoArgs are the arguments of SimDisconnect, SimLogout,
// SimStreamReplaced and SimClientOutdated: none.
type SimNoArgs struct{}

// SimScanArgs: the phone links the device while QR codes show.
type SimScanArgs struct {
	Phone        string `json:"phone,omitempty"`
	PushName     string `json:"push_name,omitempty"`
	BusinessName string `json:"business_name,omitempty"`
	Platform     string `json:"platform,omitempty"`
	// Code is the pairing code PairPhone issued, entered on the phone.
	Code string `json:"code,omitempty"`
	// History makes WhatsApp send a history chunk once the device is online.
	History *SimHistory `json:"history,omitempty"`
}

// SimHistory sizes the history chunk of a scan.
type SimHistory struct {
	Conversations int `json:"conversations,omitempty"`
	Messages      int `json:"messages,omitempty"`
	Old           int `json:"old,omitempty"`
}

// SimInboundArgs: a contact sends the channel a message.
type SimInboundArgs struct {
	From     string `json:"from,omitempty"`
	Chat     string `json:"chat,omitempty"`
	ID       string `json:"id,omitempty"`
	Type     string `json:"type,omitempty"`
	Text     string `json:"text,omitempty"`
	PushName string `json:"push_name,omitempty"`
	// Addressing is "lid" or "pn": how WhatsApp addresses the contact from
	// now on.
	Addressing string `json:"addressing,omitempty"`
	Size       int64  `json:"size,omitempty"`
	FileName   string `json:"file_name,omitempty"`
	Caption    string `json:"caption,omitempty"`
	Expired    bool   `json:"expired,omitempty"`
	Gone       bool   `json:"gone,omitempty"`
	// Undecryptable: message.undecryptable first, then the message.
	Undecryptable bool `json:"undecryptable,omitempty"`
}

// SimReceiptArgs: a recipient's receipt for a message the channel sent.
type SimReceiptArgs struct {
	ID string `json:"id"`
	// Status is delivered, read (the default), played or server_error.
	Status string `json:"status,omitempty"`
	From   string `json:"from,omitempty"`
	Chat   string `json:"chat,omitempty"`
}

// SimReactionArgs: a contact reacts to a message; no emoji removes it.
type SimReactionArgs struct {
	From  string `json:"from,omitempty"`
	Chat  string `json:"chat,omitempty"`
	ID    string `json:"id"`
	Emoji string `json:"emoji,omitempty"`
}

// SimPresenceArgs: a contact's online status or typing state.
type SimPresenceArgs struct {
	From  string `json:"from,omitempty"`
	Chat  string `json:"chat,omitempty"`
	State string `json:"state,omitempty"`
}

// SimCallArgs: a contact calls the channel, or a call changes (send the
// same ID again with a later Status).
type SimCallArgs struct {
	From  string `json:"from,omitempty"`
	ID    string `json:"id,omitempty"`
	Video bool   `json:"video,omitempty"`
	// Status is offer (ringing; the default), offer_notice (a group call;
	// the default with Group), accept, reject or terminate.
	Status string `json:"status,omitempty"`
	// Group is the group of a group call (…@g.us).
	Group string `json:"group,omitempty"`
	// Reason is why the call terminated (terminate only), e.g. timeout.
	Reason string `json:"reason,omitempty"`
}

// SimGroupArgs: something happens in a group.
type SimGroupArgs struct {
	// Event is created, member_added, member_removed or updated.
	Event        string   `json:"event"`
	Group        string   `json:"group,omitempty"`
	Name         string   `json:"name,omitempty"`
	Topic        string   `json:"topic,omitempty"`
	Participants []string `json:"participants,omitempty"`
	By           string   `json:"by,omitempty"`
}

// SimBanArgs: WhatsApp bans the account temporarily.
type SimBanArgs struct {
	Seconds int64  `json:"seconds,omitempty"`
	Code    string `json:"code,omitempty"`
}

// SimConnectFailureArgs: WhatsApp refuses the connection.
type SimConnectFailureArgs struct {
	Reason    string `json:"reason,omitempty"`
	Message   string `json:"message,omitempty"`
	Retryable bool   `json:"retryable,omitempty"`
}

// SimSendFailureArgs: the next sends fail with a server error code.
type SimSendFailureArgs struct {
	Times int `json:"times,omitempty"`
	Code  int `json:"code,omitempty"`
}

// SimVoteArgs: a contact votes in a poll of the message log.
type SimVoteArgs struct {
	From    string   `json:"from,omitempty"`
	Chat    string   `json:"chat,omitempty"`
	ID      string   `json:"id"`
	Options []string `json:"options,omitempty"`
}

// SimRetryReceiptArgs: a recipient asks for a sent message again.
type SimRetryReceiptArgs struct {
	ID string `json:"id"`
}

// SimContactArgs: an address-book entry and that user's profile.
type SimContactArgs struct {
	Phone         string  `json:"phone"`
	Name          *string `json:"name,omitempty"`
	FirstName     *string `json:"first_name,omitempty"`
	PushName      *string `json:"push_name,omitempty"`
	About         *string `json:"about,omitempty"`
	BusinessName  *string `json:"business_name,omitempty"`
	VerifiedName  *string `json:"verified_name,omitempty"`
	Picture       bool    `json:"picture,omitempty"`
	PictureHidden *bool   `json:"picture_hidden,omitempty"`
}

// SimChatArgs: a chat changed on the phone. To unmute, send muted_until
// as JSON null (a map[string]any{"chat": …, "muted_until": nil}).
type SimChatArgs struct {
	Chat       string  `json:"chat"`
	Archived   *bool   `json:"archived,omitempty"`
	Pinned     *bool   `json:"pinned,omitempty"`
	MutedUntil *string `json:"muted_until,omitempty"`
	Read       *bool   `json:"read,omitempty"`
}
