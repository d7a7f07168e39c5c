package natsauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
)

// Account names, as they appear in the account JWTs.
const (
	AccountSys    = "SYS"
	AccountWagate = "WAGATE"
	AccountApp    = "APP"
)

// AppInboxPrefix starts the inboxes an app names in Wagate-Reply-To to
// receive the outcome of its commands (nats.CustomInboxPrefix). Only this
// part of WAGATE's inboxes is visible from APP: the rest carries
// request answers and consumer deliveries.
const AppInboxPrefix = "_INBOX.app"

// KeysFile is the name of the file under the data folder holding the seeds.
const KeysFile = "nats-keys.json"

// AppCredsFile is the name of the app credential the gateway writes into
// its data folder.
const AppCredsFile = "nats-app.creds"

// seeds is the content of KeysFile.
type seeds struct {
	Operator string `json:"operator"`
	Sys      string `json:"sys"`
	Wagate   string `json:"wagate"`
	App      string `json:"app"`
}

// Authority holds the operator and account keys and their JWTs.
type Authority struct {
	operator, sys, wagate, app nkeys.KeyPair
	operatorJWT                string
	accountJWTs                map[string]string // account public key → JWT
	sysPub, wagatePub, appPub  string
}

// New returns an authority with fresh keys, kept in memory only.
func New() (*Authority, error) {
	var s seeds
	for _, f := range []struct {
		dst *string
		mk  func() (nkeys.KeyPair, error)
	}{{&s.Operator, nkeys.CreateOperator}, {&s.Sys, nkeys.CreateAccount}, {&s.Wagate, nkeys.CreateAccount}, {&s.App, nkeys.CreateAccount}} {
		kp, err := f.mk()
		if err != nil {
			return nil, fmt.Errorf("natsauth: create key: %w", err)
		}
		seed, err := kp.Seed()
		if err != nil {
			return nil, fmt.Errorf("natsauth: create key: %w", err)
		}
		*f.dst = string(seed)
	}
	return fromSeeds(s)
}

// LoadOrCreate reads the keys from dir/KeysFile, creating the file with
// fresh keys when it does not exist.
func LoadOrCreate(dir string) (*Authority, error) {
	path := filepath.Join(dir, KeysFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		a, err := New()
		if err != nil {
			return nil, err
		}
		if err := a.save(path); err != nil {
			return nil, err
		}
		return a, nil
	}
	if err != nil {
		return nil, fmt.Errorf("natsauth: read %s: %w", path, err)
	}
	var s seeds
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("natsauth: %s is not a keys file: %w", path, err)
	}
	a, err := fromSeeds(s)
	if err != nil {
		return nil, fmt.Errorf("natsauth: %s: %w", path, err)
	}
	return a, nil
}

func (a *Authority) save(path string) error {
	var s seeds
	for _, f := range []struct {
		dst *string
		kp  nkeys.KeyPair
	}{{&s.Operator, a.operator}, {&s.Sys, a.sys}, {&s.Wagate, a.wagate}, {&s.App, a.app}} {
		seed, err := f.kp.Seed()
		if err != nil {
			return err
		}
		*f.dst = string(seed)
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("natsauth: %w", err)
	}
	// O_EXCL: two processes sharing a data folder never overwrite each
	// other's keys; the loser reads the winner's.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("natsauth: store keys: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("natsauth: store keys: %w", err)
	}
	return f.Close()
}

func fromSeeds(s seeds) (*Authority, error) {
	a := &Authority{accountJWTs: map[string]string{}}
	var err error
	for _, f := range []struct {
		dst  *nkeys.KeyPair
		seed string
		name string
	}{{&a.operator, s.Operator, "operator"}, {&a.sys, s.Sys, "sys"}, {&a.wagate, s.Wagate, "wagate"}, {&a.app, s.App, "app"}} {
		if *f.dst, err = nkeys.FromSeed([]byte(f.seed)); err != nil {
			return nil, fmt.Errorf("%s key: %w", f.name, err)
		}
	}
	opPub, _ := a.operator.PublicKey()
	a.sysPub, _ = a.sys.PublicKey()
	a.wagatePub, _ = a.wagate.PublicKey()
	a.appPub, _ = a.app.PublicKey()

	oc := jwt.NewOperatorClaims(opPub)
	oc.Name = "wagate"
	oc.SystemAccount = a.sysPub
	if a.operatorJWT, err = oc.Encode(a.operator); err != nil {
		return nil, fmt.Errorf("operator jwt: %w", err)
	}

	sys := jwt.NewAccountClaims(a.sysPub)
	sys.Name = AccountSys

	wg := jwt.NewAccountClaims(a.wagatePub)
	wg.Name = AccountWagate
	wg.Limits.JetStreamLimits = jwt.JetStreamLimits{MemoryStorage: -1, DiskStorage: -1, Streams: -1, Consumer: -1, MaxAckPending: -1}
	for _, s := range fleet("wa.cmd.>") {
		wg.Exports.Add(&jwt.Export{Name: "commands " + s, Subject: jwt.Subject(s), Type: jwt.Service})
	}
	wg.Exports.Add(&jwt.Export{Name: "command outcomes", Subject: AppInboxPrefix + ".>", Type: jwt.Stream})

	app := jwt.NewAccountClaims(a.appPub)
	app.Name = AccountApp
	for _, s := range fleet("wa.cmd.>") {
		app.Imports.Add(&jwt.Import{Name: "commands " + s, Subject: jwt.Subject(s), Account: a.wagatePub, Type: jwt.Service})
	}
	app.Imports.Add(&jwt.Import{Name: "command outcomes", Subject: AppInboxPrefix + ".>", Account: a.wagatePub, Type: jwt.Stream})

	for _, ac := range []*jwt.AccountClaims{sys, wg, app} {
		tok, err := ac.Encode(a.operator)
		if err != nil {
			return nil, fmt.Errorf("account %s jwt: %w", ac.Name, err)
		}
		a.accountJWTs[ac.Subject] = tok
	}
	return a, nil
}

// Configure makes opts trust the operator, with the accounts preloaded in
// a memory resolver. The server then refuses any client without a user
// credential of one of the accounts.
func (a *Authority) Configure(opts *server.Options) error {
	oc, err := jwt.DecodeOperatorClaims(a.operatorJWT)
	if err != nil {
		return fmt.Errorf("natsauth: %w", err)
	}
	res := &server.MemAccResolver{}
	for pub, tok := range a.accountJWTs {
		if err := res.Store(pub, tok); err != nil {
			return fmt.Errorf("natsauth: %w", err)
		}
	}
	opts.TrustedOperators = []*jwt.OperatorClaims{oc}
	opts.SystemAccount = a.sysPub
	opts.AccountResolver = res
	return nil
}

// ServerConfig is the nats-server configuration block that trusts the
// operator: include it in a nats-server.conf (with jetstream enabled) and
// the server accepts exactly the credentials Creds mints.
func (a *Authority) ServerConfig() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# wagate NATS accounts: %s %s, %s %s, %s %s\n", AccountSys, a.sysPub, AccountWagate, a.wagatePub, AccountApp, a.appPub)
	fmt.Fprintf(&b, "operator: %q\n", a.operatorJWT)
	fmt.Fprintf(&b, "system_account: %q\n", a.sysPub)
	b.WriteString("resolver: MEMORY\nresolver_preload: {\n")
	pubs := make([]string, 0, len(a.accountJWTs))
	for pub := range a.accountJWTs {
		pubs = append(pubs, pub)
	}
	sort.Strings(pubs)
	for _, pub := range pubs {
		fmt.Fprintf(&b, "  %s: %q\n", pub, a.accountJWTs[pub])
	}
	b.WriteString("}\n")
	return b.String()
}

// User mints a user of role: its JWT, signed by its account's key, and
// its seed. name appears in the server's logs.
func (a *Authority) User(role Role, name string) (userJWT string, seed []byte, err error) {
	perms, err := permissions(role)
	if err != nil {
		return "", nil, err
	}
	kp, err := nkeys.CreateUser()
	if err != nil {
		return "", nil, fmt.Errorf("natsauth: create user key: %w", err)
	}
	pub, _ := kp.PublicKey()
	uc := jwt.NewUserClaims(pub)
	if name == "" {
		name = "wagate-" + string(role)
	}
	uc.Name = name
	uc.Permissions = perms
	account := a.wagate
	if role == RoleApp {
		account = a.app
	}
	if userJWT, err = uc.Encode(account); err != nil {
		return "", nil, fmt.Errorf("natsauth: user jwt: %w", err)
	}
	if seed, err = kp.Seed(); err != nil {
		return "", nil, fmt.Errorf("natsauth: user seed: %w", err)
	}
	return userJWT, seed, nil
}

// Creds mints a user of role in the standard .creds format (JWT and seed),
// which `nats --creds` and nats.UserCredentials read as they are.
func (a *Authority) Creds(role Role, name string) ([]byte, error) {
	userJWT, seed, err := a.User(role, name)
	if err != nil {
		return nil, err
	}
	out, err := jwt.FormatUserConfig(userJWT, seed)
	if err != nil {
		return nil, fmt.Errorf("natsauth: format creds: %w", err)
	}
	return out, nil
}

// WriteCreds writes the credential of role to path (mode 0600) unless a
// file is there already, so copies handed to apps stay valid and equal.
func (a *Authority) WriteCreds(path string, role Role) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	creds, err := a.Creds(role, "")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, creds, 0o600); err != nil {
		return fmt.Errorf("natsauth: write %s: %w", path, err)
	}
	return nil
}
