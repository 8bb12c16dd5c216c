package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"

	"github.com/yizhu-health/yizhu/clinic"
)

// Role is what a caller may do. Every route names the roles it admits.
type Role string

// Roles.
const (
	RoleKiosk  Role = "kiosk"  // a self-service kiosk session (anonymous, short-lived)
	RoleDoctor Role = "doctor" // a clinician: drafts, edits and signs notes
	RoleQC     Role = "qc"     // quality-control staff
	RoleECG    Role = "ecg"    // an ECG device, clinic uploader or ECG reading doctor
	RoleAdmin  Role = "admin"  // operators: tokens, audit
)

// Roles lists every role.
var Roles = []Role{RoleKiosk, RoleDoctor, RoleQC, RoleECG, RoleAdmin}

// ValidRole reports whether r is a known role.
func ValidRole(r Role) bool { return slices.Contains(Roles, r) }

// Claims is what a bearer token says about its holder.
type Claims struct {
	Role Role   `json:"role"`
	Name string `json:"name,omitempty"`
	jwt.RegisteredClaims
}

// Subject returns the caller's ID (the token's sub claim).
func (c *Claims) Subject() string { return c.RegisteredClaims.Subject }

// Tokens issues and verifies HS256 bearer tokens.
type Tokens struct {
	secret []byte
	now    func() time.Time
}

// NewTokens returns a token issuer for secret, which must be at least 32
// bytes. now defaults to time.Now.
func NewTokens(secret []byte, now func() time.Time) (*Tokens, error) {
	if len(secret) < 32 {
		return nil, clinic.NewError(clinic.CodeInvalid, "YIZHU_AUTH_SECRET",
			"the auth secret must be at least 32 bytes", "认证密钥至少需要 32 字节")
	}
	if now == nil {
		now = time.Now
	}
	return &Tokens{secret: slices.Clone(secret), now: now}, nil
}

// Issue returns a signed token for subject with role, valid for ttl.
func (t *Tokens) Issue(subject string, role Role, name string, ttl time.Duration) (string, time.Time, error) {
	if !ValidRole(role) {
		return "", time.Time{}, clinic.NewError(clinic.CodeInvalid, "role", "unknown role "+string(role), "未知角色 "+string(role))
	}
	if subject == "" || ttl <= 0 {
		return "", time.Time{}, clinic.NewError(clinic.CodeInvalid, "subject", "a subject and a positive lifetime are required", "需要主体和有效期")
	}
	now := t.now()
	exp := now.Add(ttl)
	jti := make([]byte, 8)
	_, _ = rand.Read(jti)
	claims := Claims{Role: role, Name: name, RegisteredClaims: jwt.RegisteredClaims{
		Subject: subject, Issuer: "yizhu", IssuedAt: jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(exp), ID: hex.EncodeToString(jti),
	}}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("api.Tokens.Issue: %w", err)
	}
	return s, exp, nil
}

// Verify parses and checks a token: HS256 only, signature, expiry, issuer
// and a known role.
func (t *Tokens) Verify(token string) (*Claims, error) {
	var c Claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer("yizhu"), jwt.WithExpirationRequired(), jwt.WithTimeFunc(t.now))
	if err != nil {
		return nil, clinic.Wrap(err, clinic.CodeUnauthorized, "invalid or expired bearer token", "访问令牌无效或已过期")
	}
	if !ValidRole(c.Role) || c.RegisteredClaims.Subject == "" {
		return nil, clinic.Errorf(clinic.CodeUnauthorized, "token has no valid role or subject")
	}
	return &c, nil
}

type claimsKey struct{}

// NewContextWithClaims returns ctx carrying the caller's claims.
func NewContextWithClaims(ctx context.Context, c *Claims) context.Context {
	return context.WithValue(ctx, claimsKey{}, c)
}

// ClaimsFromContext returns the caller's claims, or nil for public routes.
func ClaimsFromContext(ctx context.Context) *Claims {
	c, _ := ctx.Value(claimsKey{}).(*Claims)
	return c
}

// ClaimsFrom returns the caller's claims of an Echo request.
func ClaimsFrom(c echo.Context) *Claims { return ClaimsFromContext(c.Request().Context()) }

// requireRoles returns middleware that admits only bearer tokens with one of
// roles. Missing or bad tokens get 401, a wrong role 403; the handler never runs.
func requireRoles(t *Tokens, roles []Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Request().Header.Get(echo.HeaderAuthorization)
			raw, ok := strings.CutPrefix(h, "Bearer ")
			if !ok {
				// Browsers cannot set headers on EventSource/WebSocket; allow
				// ?access_token= for those GET requests only.
				raw = c.QueryParam("access_token")
				if raw == "" || c.Request().Method != "GET" {
					return clinic.Errorf(clinic.CodeUnauthorized, "missing bearer token")
				}
			}
			claims, err := t.Verify(strings.TrimSpace(raw))
			if err != nil {
				return err
			}
			if !slices.Contains(roles, claims.Role) {
				return &clinic.Error{Code: clinic.CodeForbidden,
					Message:   fmt.Sprintf("role %q may not call this endpoint", claims.Role),
					MessageZH: fmt.Sprintf("角色 %q 无权访问此接口", claims.Role)}
			}
			req := c.Request()
			c.SetRequest(req.WithContext(NewContextWithClaims(req.Context(), claims)))
			return next(c)
		}
	}
}

// errNoAuth is returned when a route needs auth but the server has no tokens.
var errNoAuth = errors.New("api: server has no token issuer")
