/* ussd.c: USSD menus as a pure state machine (no I/O).
 *
 * A session is a state (struct ussd_state, kept in PostgreSQL as JSON
 * between steps, see ussd_session.c) and each step applies one input to it:
 * ussd_step gets the state, the input and what the database knows for this step
 * (struct ussd_ctx) and returns the screen to show and the action to take. The
 * texts are Vietnamese; without diacritics every piece is folded to
 * GSM-7 before it is measured, so each screen is known to fit USSD_MAX
 * characters, with room left for a one-line reason above it.
 */

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "grammar.h"
#include "sms.h"
#include "ussd.h"
#include "util.h"

#define USSD_BODY_MAX (USSD_MAX - USSD_REASON_MAX - 1)

/* The part of text after its last '*'. */
const char *
ussd_last_input(const char *text)
{
	const char *star = strrchr(text, '*');

	return star != NULL ? star + 1 : text;
}

/* The input of this step, given the text of the previous one. */
const char *
ussd_input(const char *prev, const char *text, int cumulative)
{
	size_t n;

	if (!cumulative || prev == NULL)
		return text;
	n = strlen(prev);
	if (n == 0)
		return text;
	if (strncmp(text, prev, n) == 0 && text[n] == '*')
		return text + n + 1;
	return ussd_last_input(text);
}

/* Characters one code point takes: GSM-7 escapes and pairs count 2. */
static int
char_units(uint32_t cp)
{
	if (cp > 0xffff || cp == 0x20ac || cp == '\f')
		return 2;
	return cp < 128 && strchr("^{}\\[~]|", (int)cp) != NULL ? 2 : 1;
}

/* Length in characters. */
int
ussd_len(const char *s)
{
	uint32_t cp;
	size_t n;
	int len = 0;

	for (; (n = grammar_utf8_next(s, &cp)) != 0; s += n)
		len += char_units(cp);
	return len;
}

/* A copy of s cut to at most max characters, "..." marking the cut. */
static char *
cut(const char *s, int max)
{
	struct buf b;
	uint32_t cp;
	size_t n;
	int used = 0;

	if (ussd_len(s) <= max)
		return xstrdup(s);
	buf_init(&b);
	for (; (n = grammar_utf8_next(s, &cp)) != 0; s += n) {
		if (used + char_units(cp) > max - 3)
			break;
		buf_add(&b, s, n);
		used += char_units(cp);
	}
	buf_adds(&b, "...");
	return buf_detach(&b);
}

/* Text as shown: folded to GSM-7 unless diacritics are on. */
static char *
fold(const struct ussd_ctx *ctx, const char *s)
{
	if (s == NULL)
		s = "";
	return ctx->diacritics ? xstrdup(s) : sms_to_gsm7(s);
}

/* Data as shown: folded, control characters as spaces, at most max
 * characters. */
static char *
disp(const struct ussd_ctx *ctx, const char *s, int max)
{
	char *t = fold(ctx, s), *r;

	for (r = t; *r != '\0'; r++) {
		if ((unsigned char)*r < ' ')
			*r = ' ';
	}
	r = cut(t, max);
	free(t);
	return r;
}

/* Append the menu's own words as shown. */
static void
add(struct buf *b, const struct ussd_ctx *ctx, const char *s)
{
	char *t = fold(ctx, s);

	buf_adds(b, t);
	free(t);
}

/* Append data (a name, a code) as shown, cut to max characters. */
static void
add_data(struct buf *b, const struct ussd_ctx *ctx, const char *s, int max)
{
	char *t = disp(ctx, s, max);

	buf_adds(b, t);
	free(t);
}

/* Append "\n<n> <label>", the label cut to max characters. */
static void
add_item(struct buf *b, const struct ussd_ctx *ctx, int n, const char *label,
         int max)
{
	char *t = disp(ctx, label, max);

	buf_printf(b, "\n%d %s", n, t);
	free(t);
}

/* The length of a text as shown (data cut to max characters). */
static int
shown_len(const struct ussd_ctx *ctx, const char *s, int max)
{
	char *t = disp(ctx, s, max);
	int n = ussd_len(t);

	free(t);
	return n;
}

#define BACK_LINE "\n0 Quay lại"
#define MORE_LINE "\n9 Xem thêm"

/* A list to page through: the items shown on one screen. */
struct list {
	const struct ussd_item *v[64];
	size_t n;
};

/* Where page p of a list starts and how many items it holds; p is
 * clamped to the last page, which is returned. */
static int
list_page(const struct ussd_ctx *ctx, const char *title, const struct list *l,
          int p, size_t *first, size_t *count)
{
	int len[sizeof l->v / sizeof l->v[0]], page = 0, used, fixed, more;
	size_t start = 0, k;

	fixed = shown_len(ctx, title, USSD_MAX) +
	        shown_len(ctx, BACK_LINE, USSD_MAX);
	more = shown_len(ctx, MORE_LINE, USSD_MAX);
	for (k = 0; k < l->n; k++)
		len[k] = 2 + shown_len(ctx, l->v[k]->label, USSD_LABEL_MAX);
	for (;; page++) {
		used = fixed;
		for (k = 0; start + k < l->n && k < USSD_PAGE_ITEMS; k++) {
			if (k > 0 && used + len[start + k] +
			                     (start + k + 1 < l->n ? more : 0) >
			                 USSD_BODY_MAX)
				break;
			used += len[start + k];
		}
		*first = start;
		*count = k;
		if (page >= p || start + k >= l->n)
			return page;
		start += k;
	}
}

/* Show page p of a list under its title. */
static void
show_list(struct buf *b, const struct ussd_ctx *ctx, const char *title,
          const struct list *l, int p)
{
	size_t first, count, i;

	list_page(ctx, title, l, p, &first, &count);
	add(b, ctx, title);
	for (i = 0; i < count; i++)
		add_item(b, ctx, (int)i + 1, l->v[first + i]->label,
		         USSD_LABEL_MAX);
	if (first + count < l->n)
		add(b, ctx, MORE_LINE);
	add(b, ctx, BACK_LINE);
}

enum pick {
	PICK_BAD,
	PICK_BACK, /* 0 on the first page */
	PICK_PAGE, /* 9 or 0 moved to another page */
	PICK_ITEM,
};

/* The single digit the input is (spaces around allowed), else -1. */
static int
digit(const char *in)
{
	while (*in == ' ')
		in++;
	if (*in < '0' || *in > '9')
		return -1;
	for (const char *p = in + 1; *p != '\0'; p++) {
		if (*p != ' ')
			return -1;
	}
	return *in - '0';
}

/* Apply an input to a list on page *p: the item picked in *item. */
static enum pick
list_pick(const struct ussd_ctx *ctx, const char *title, const struct list *l,
          int *p, const char *in, const struct ussd_item **item)
{
	size_t first, count;
	int d = digit(in);

	*p = list_page(ctx, title, l, *p, &first, &count);
	if (d == 0 && *p > 0) {
		(*p)--;
		return PICK_PAGE;
	}
	if (d == 0)
		return PICK_BACK;
	if (d == 9 && first + count < l->n) {
		(*p)++;
		return PICK_PAGE;
	}
	if (d < 1 || (size_t)d > count)
		return PICK_BAD;
	*item = l->v[first + (size_t)d - 1];
	return PICK_ITEM;
}

/* The dimensions (dim 0), or the items of v in dimension dim. */
static void
list_of(struct list *l, const struct ussd_item *v, size_t n, int dim)
{
	l->n = 0;
	for (size_t i = 0; i < n && l->n < sizeof l->v / sizeof l->v[0]; i++) {
		if (dim == 0 || v[i].dim == dim)
			l->v[l->n++] = &v[i];
	}
}

/* Replace a string of the state. */
static void
set(char **field, const char *value)
{
	free(*field);
	*field = value != NULL ? xstrdup(value) : NULL;
}

/* What a screen asks for: entering it forgets that and what follows it,
 * so a state says only what the citizen has chosen on the way there. */
enum {
	K_FLOW = 1 << 0,
	K_DIM = 1 << 1,
	K_CAT = 1 << 2,
	K_UNIT = 1 << 3,
	K_TEXT = 1 << 4,
	K_TICKET = 1 << 5,
	K_SVC = 1 << 6,
	K_SCORE = 1 << 7,
	K_ALL = (1 << 8) - 1,
};

static const unsigned forget[US_NSCREENS] = {
    [US_MAIN] = K_ALL,
    [US_DIM] = K_DIM | K_CAT | K_UNIT | K_TEXT,
    [US_CAT] = K_CAT | K_UNIT | K_TEXT,
    [US_UNIT] = K_UNIT | K_TEXT | K_SCORE,
    [US_TEXT] = K_TEXT,
    [US_RATE] = K_FLOW | K_DIM | K_UNIT | K_TICKET | K_SVC | K_SCORE,
    [US_SVC] = K_DIM | K_UNIT | K_SVC | K_SCORE,
    [US_SCORE] = K_SCORE,
    [US_REG] = K_UNIT,
};

/* Go to a screen, on its first page. */
static void
go(struct ussd_state *st, enum ussd_screen screen)
{
	unsigned k = forget[screen];

	st->screen = screen;
	st->page = 0;
	if (k & K_FLOW)
		st->flow = UF_COMPLAINT;
	if (k & K_DIM)
		st->dim = 0;
	if (k & K_CAT)
		set(&st->cat, NULL);
	if (k & K_UNIT) {
		set(&st->unit, NULL);
		set(&st->unit_name, NULL);
	}
	if (k & K_TEXT)
		set(&st->text, NULL);
	if (k & K_TICKET) {
		set(&st->ticket, NULL);
		st->cid = 0;
	}
	if (k & K_SVC)
		set(&st->svc, NULL);
	if (k & K_SCORE)
		st->score = 0;
}

/* End the session with a screen. */
static const char *
finish(struct ussd_state *st, struct ussd_out *out, struct buf *b)
{
	go(st, US_DONE);
	out->end = 1;
	out->screen = cut(b->data, USSD_MAX);
	buf_clear(b);
	return NULL;
}

#define TITLE_DIM  "Chọn lĩnh vực:"
#define TITLE_CAT  "Chọn vấn đề:"
#define TITLE_SVC  "Chọn dịch vụ:"
#define BAD_CHOICE "Lựa chọn không hợp lệ."

static const char *score_labels[] = {"Rất không hài lòng", "Không hài lòng",
                                     "Bình thường", "Hài lòng", "Rất hài lòng"};

/* Show the main menu. */
static void
show_main(struct buf *b, const struct ussd_ctx *ctx,
          const struct ussd_state *st)
{
	(void)st;
	add(b, ctx,
	    "Phản ánh, kiến nghị\n1 Gửi phản ánh\n2 Đánh giá\n"
	    "3 Tra cứu phản ánh\n4 Đăng ký xã/phường");
}

/* Show the open tickets and end. */
static const char *
status_end(const struct ussd_ctx *ctx, struct ussd_state *st,
           struct ussd_out *out)
{
	struct buf b, line;
	size_t i;

	buf_init(&b);
	if (ctx->nopen == 0) {
		add(&b, ctx, "Bạn không có phản ánh nào đang xử lý.");
		return finish(st, out, &b);
	}
	add(&b, ctx, "Phản ánh của bạn:");
	for (i = 0; i < ctx->nopen; i++) {
		buf_init(&line);
		buf_printf(&line, "\n%s: ", ctx->open[i].ticket);
		add(&line, ctx, ctx->open[i].status);
		if (ctx->open[i].due[0] != '\0') {
			add(&line, ctx, ", hạn ");
			buf_adds(&line, ctx->open[i].due);
		}
		if (ussd_len(b.data) + ussd_len(line.data) > USSD_MAX) {
			buf_clear(&line);
			break;
		}
		buf_adds(&b, line.data);
		buf_clear(&line);
	}
	return finish(st, out, &b);
}

/* Main menu: 1 complain, 2 rate, 3 status, 4 register. */
static const char *
step_main(const struct ussd_ctx *ctx, struct ussd_state *st, const char *in,
          struct ussd_out *out)
{
	switch (digit(in)) {
	case 1:
		st->flow = UF_COMPLAINT;
		go(st, US_DIM);
		return NULL;
	case 2:
		go(st, US_RATE);
		return NULL;
	case 3:
		return status_end(ctx, st, out);
	case 4:
		go(st, US_REG);
		return NULL;
	}
	return "Chọn từ 1 đến 4.";
}

/* Show the PAPI dimensions. */
static void
show_dim(struct buf *b, const struct ussd_ctx *ctx, const struct ussd_state *st)
{
	struct list l;

	list_of(&l, ctx->dims, ctx->ndims, 0);
	show_list(b, ctx, TITLE_DIM, &l, st->page);
}

/* A dimension: its categories next. */
static const char *
step_dim(const struct ussd_ctx *ctx, struct ussd_state *st, const char *in,
         struct ussd_out *out)
{
	const struct ussd_item *it = NULL;
	struct list l, cats;

	(void)out;
	list_of(&l, ctx->dims, ctx->ndims, 0);
	switch (list_pick(ctx, TITLE_DIM, &l, &st->page, in, &it)) {
	case PICK_BACK:
		go(st, US_MAIN);
		return NULL;
	case PICK_PAGE:
		return NULL;
	case PICK_BAD:
		return BAD_CHOICE;
	case PICK_ITEM:
		break;
	}
	list_of(&cats, ctx->cats, ctx->ncats, atoi(it->code));
	if (cats.n == 0)
		return "Lĩnh vực này chưa nhận phản ánh.";
	st->dim = atoi(it->code);
	go(st, US_CAT);
	return NULL;
}

/* Show the categories of the dimension. */
static void
show_cat(struct buf *b, const struct ussd_ctx *ctx, const struct ussd_state *st)
{
	struct list l;

	list_of(&l, ctx->cats, ctx->ncats, st->dim);
	show_list(b, ctx, TITLE_CAT, &l, st->page);
}

/* A category: the commune next. */
static const char *
step_cat(const struct ussd_ctx *ctx, struct ussd_state *st, const char *in,
         struct ussd_out *out)
{
	const struct ussd_item *it = NULL;
	struct list l;

	(void)out;
	list_of(&l, ctx->cats, ctx->ncats, st->dim);
	switch (list_pick(ctx, TITLE_CAT, &l, &st->page, in, &it)) {
	case PICK_BACK:
		go(st, US_DIM);
		return NULL;
	case PICK_PAGE:
		return NULL;
	case PICK_BAD:
		return BAD_CHOICE;
	case PICK_ITEM:
		break;
	}
	set(&st->cat, it->code);
	go(st, US_UNIT);
	return NULL;
}

/* Show the commune question: the registered one first, else a code. */
static void
show_unit(struct buf *b, const struct ussd_ctx *ctx,
          const struct ussd_state *st)
{
	add(b, ctx,
	    st->flow == UF_COMPLAINT ? "Xã/phường nơi xảy ra:"
	                             : "Dịch vụ của xã/phường:");
	if (ctx->home_code != NULL) {
		add_item(b, ctx, 1, ctx->home_name, USSD_LABEL_MAX);
		add(b, ctx, "\nhoặc nhập mã xã/phường khác");
	} else {
		add(b, ctx, "\nNhập mã xã/phường (VD: ");
		add_data(b, ctx, ctx->example, USSD_CODE_MAX);
		add(b, ctx, ")");
	}
	add(b, ctx, BACK_LINE);
}

/* The input as a commune: the registered one for 1, or a known code. */
static int
unit_of(const struct ussd_ctx *ctx, struct ussd_state *st, const char *in,
        int home_ok)
{
	if (home_ok && ctx->home_code != NULL && digit(in) == 1) {
		set(&st->unit, ctx->home_code);
		set(&st->unit_name, ctx->home_name);
		return 0;
	}
	if (ctx->unit_code != NULL && strcmp(in, ctx->unit_code) == 0) {
		set(&st->unit, ctx->unit_code);
		set(&st->unit_name, ctx->unit_name);
		return 0;
	}
	return -1;
}

/* The commune screens take a code (a single digit is a choice: back, or
 * the registered commune). */
int
ussd_needs_unit(const struct ussd_state *st, const char *input)
{
	return (st->screen == US_UNIT || st->screen == US_REG) &&
	       digit(input) < 0;
}

/* The commune of a complaint or of a rated service. */
static const char *
step_unit(const struct ussd_ctx *ctx, struct ussd_state *st, const char *in,
          struct ussd_out *out)
{
	(void)out;
	if (digit(in) == 0) {
		go(st, st->flow == UF_COMPLAINT ? US_CAT : US_SVC);
		return NULL;
	}
	if (unit_of(ctx, st, in, 1) != 0)
		return "Mã xã/phường không đúng.";
	go(st, st->flow == UF_COMPLAINT ? US_TEXT : US_SCORE);
	return NULL;
}

/* Show the question for the complaint's text. */
static void
show_text(struct buf *b, const struct ussd_ctx *ctx,
          const struct ussd_state *st)
{
	(void)st;
	add(b, ctx, "Nhập nội dung phản ánh:");
	add(b, ctx, BACK_LINE);
}

/* The complaint's text. */
static const char *
step_text(const struct ussd_ctx *ctx, struct ussd_state *st, const char *in,
          struct ussd_out *out)
{
	const char *p = in, *e;

	(void)ctx;
	(void)out;
	while (isspace((unsigned char)*p))
		p++;
	e = p + strlen(p);
	while (e > p && isspace((unsigned char)e[-1]))
		e--;
	if (e == p)
		return "Nội dung trống.";
	if (e - p == 1 && *p == '0') {
		go(st, US_UNIT);
		return NULL;
	}
	free(st->text);
	st->text = xstrndup(p, (size_t)(e - p) < USSD_TEXT_MAX ? (size_t)(e - p)
	                                                       : USSD_TEXT_MAX);
	go(st, US_CONFIRM);
	return NULL;
}

/* The label of a code in a list, or the code. */
static const char *
label_of(const struct ussd_item *v, size_t n, const char *code)
{
	for (size_t i = 0; i < n; i++) {
		if (code != NULL && strcmp(v[i].code, code) == 0)
			return v[i].label;
	}
	return code != NULL ? code : "";
}

/* Show the complaint for confirmation, its text cut to what fits. */
static void
show_confirm(struct buf *b, const struct ussd_ctx *ctx,
             const struct ussd_state *st)
{
	char *t;
	int room;

	add(b, ctx, "Gửi phản ánh?\n");
	t = disp(ctx, label_of(ctx->cats, ctx->ncats, st->cat), USSD_LABEL_MAX);
	buf_printf(b, "%s, ", t);
	free(t);
	t = disp(ctx, st->unit_name, USSD_LABEL_MAX);
	buf_printf(b, "%s\n", t);
	free(t);
	room = USSD_BODY_MAX - ussd_len(b->data) -
	       shown_len(ctx, "\n1 Gửi" BACK_LINE, USSD_MAX) - 2;
	t = disp(ctx, st->text, room);
	buf_printf(b, "\"%s\"", t);
	free(t);
	add(b, ctx, "\n1 Gửi" BACK_LINE);
}

/* 1 files the complaint. */
static const char *
step_confirm(const struct ussd_ctx *ctx, struct ussd_state *st, const char *in,
             struct ussd_out *out)
{
	struct buf b;

	switch (digit(in)) {
	case 0:
		go(st, US_TEXT);
		return NULL;
	case 1:
		buf_init(&b);
		add(&b, ctx,
		    "Đã nhận phản ánh, mã {ticket}. Bạn sẽ nhận SMS "
		    "xác nhận. Tra cứu: TT {ticket}");
		out->action = UA_COMPLAINT;
		return finish(st, out, &b);
	}
	return BAD_CHOICE;
}

/* Show what can be rated. */
static void
show_rate(struct buf *b, const struct ussd_ctx *ctx,
          const struct ussd_state *st)
{
	(void)st;
	add(b, ctx, "Đánh giá:\n1 Phản ánh đã được trả lời");
	if (ctx->answered_id != 0) {
		buf_addc(b, ' ');
		add_data(b, ctx, ctx->answered_ticket, USSD_CODE_MAX);
	}
	add(b, ctx, "\n2 Dịch vụ công của xã/phường");
	add(b, ctx, BACK_LINE);
}

/* 1 the last answered complaint, 2 a service. */
static const char *
step_rate(const struct ussd_ctx *ctx, struct ussd_state *st, const char *in,
          struct ussd_out *out)
{
	(void)out;
	switch (digit(in)) {
	case 0:
		go(st, US_MAIN);
		return NULL;
	case 1:
		if (ctx->answered_id == 0)
			return "Chưa có phản ánh nào được trả lời.";
		st->flow = UF_TICKET;
		st->cid = ctx->answered_id;
		set(&st->ticket, ctx->answered_ticket);
		go(st, US_SCORE);
		return NULL;
	case 2:
		if (ctx->nsvcs == 0)
			return "Chưa có dịch vụ để đánh giá.";
		st->flow = UF_SERVICE;
		go(st, US_SVC);
		return NULL;
	}
	return BAD_CHOICE;
}

/* Show the services. */
static void
show_svc(struct buf *b, const struct ussd_ctx *ctx, const struct ussd_state *st)
{
	struct list l;

	list_of(&l, ctx->svcs, ctx->nsvcs, 0);
	show_list(b, ctx, TITLE_SVC, &l, st->page);
}

/* A service: its commune next. */
static const char *
step_svc(const struct ussd_ctx *ctx, struct ussd_state *st, const char *in,
         struct ussd_out *out)
{
	const struct ussd_item *it = NULL;
	struct list l;

	(void)out;
	list_of(&l, ctx->svcs, ctx->nsvcs, 0);
	switch (list_pick(ctx, TITLE_SVC, &l, &st->page, in, &it)) {
	case PICK_BACK:
		go(st, US_RATE);
		return NULL;
	case PICK_PAGE:
		return NULL;
	case PICK_BAD:
		return BAD_CHOICE;
	case PICK_ITEM:
		break;
	}
	set(&st->svc, it->code);
	st->dim = it->dim;
	go(st, US_UNIT);
	return NULL;
}

/* Show the 1-5 scale for the complaint or the service. */
static void
show_score(struct buf *b, const struct ussd_ctx *ctx,
           const struct ussd_state *st)
{
	char *t;

	if (st->flow == UF_TICKET) {
		add(b, ctx, "Phản ánh ");
		add_data(b, ctx, st->ticket, USSD_CODE_MAX);
	} else {
		t = disp(ctx, label_of(ctx->svcs, ctx->nsvcs, st->svc), 30);
		buf_adds(b, t);
		free(t);
		t = disp(ctx, st->unit_name, 30);
		buf_printf(b, ", %s", t);
		free(t);
	}
	add(b, ctx, " đã được giải quyết thế nào?");
	for (int i = 0; i < 5; i++)
		add_item(b, ctx, i + 1, score_labels[i], USSD_LABEL_MAX);
	add(b, ctx, BACK_LINE);
}

/* A score from 1 to 5. */
static const char *
step_score(const struct ussd_ctx *ctx, struct ussd_state *st, const char *in,
           struct ussd_out *out)
{
	struct buf b;
	int d = digit(in);

	if (d == 0) {
		go(st, st->flow == UF_TICKET ? US_RATE : US_UNIT);
		return NULL;
	}
	if (d < 1 || d > 5)
		return "Chọn từ 1 đến 5.";
	st->score = d;
	buf_init(&b);
	if (st->flow == UF_TICKET) {
		add(&b, ctx, "Phản ánh ");
		add_data(&b, ctx, st->ticket, USSD_CODE_MAX);
		add(&b, ctx, " ");
		add(&b, ctx, "không còn chờ đánh giá.");
		out->fail = buf_detach(&b);
		buf_init(&b);
	}
	add(&b, ctx, "Cảm ơn bạn đã đánh giá: ");
	buf_printf(&b, "%d/5.", d);
	out->action = st->flow == UF_TICKET ? UA_RATE : UA_RATE_SERVICE;
	return finish(st, out, &b);
}

/* Show the question for the home commune. */
static void
show_reg(struct buf *b, const struct ussd_ctx *ctx, const struct ussd_state *st)
{
	(void)st;
	if (ctx->home_code != NULL) {
		add(b, ctx, "Xã/phường đã đăng ký: ");
		add_data(b, ctx, ctx->home_name, USSD_LABEL_MAX);
		add(b, ctx, "\nNhập mã mới (VD: ");
	} else {
		add(b, ctx, "Nhập mã xã/phường của bạn (VD: ");
	}
	add_data(b, ctx, ctx->example, USSD_CODE_MAX);
	add(b, ctx, ")");
	add(b, ctx, BACK_LINE);
}

/* A commune code to register. */
static const char *
step_reg(const struct ussd_ctx *ctx, struct ussd_state *st, const char *in,
         struct ussd_out *out)
{
	struct buf b;

	if (digit(in) == 0) {
		go(st, US_MAIN);
		return NULL;
	}
	if (unit_of(ctx, st, in, 0) != 0)
		return "Mã xã/phường không đúng.";
	buf_init(&b);
	add(&b, ctx, "Đã đăng ký xã/phường: ");
	add_data(&b, ctx, st->unit_name, USSD_LABEL_MAX);
	add(&b, ctx, ".");
	out->action = UA_REGISTER;
	return finish(st, out, &b);
}

/* After the end: nothing more to do. */
static const char *
step_done(const struct ussd_ctx *ctx, struct ussd_state *st, const char *in,
          struct ussd_out *out)
{
	struct buf b;

	(void)in;
	buf_init(&b);
	add(&b, ctx, "Phiên đã kết thúc. Vui lòng quay số lại.");
	return finish(st, out, &b);
}

/* Show nothing (the session has ended). */
static void
show_done(struct buf *b, const struct ussd_ctx *ctx,
          const struct ussd_state *st)
{
	(void)st;
	add(b, ctx, "Phiên đã kết thúc.");
}

/* One screen: how it reads an input and how it shows itself, and whether
 * the step from it reads the citizen's part of the context (the registered
 * commune, the open tickets, the answered complaint): its step function
 * does, or a screen it can show next (itself included) does. show_unit,
 * show_rate and show_reg show it; step_main, step_unit and step_rate
 * read it. check_ussd compares every step from a screen marked 0 with and
 * without the citizen's part. */
static const struct screen {
	const char *(*step)(const struct ussd_ctx *, struct ussd_state *,
	                    const char *, struct ussd_out *);
	void (*show)(struct buf *, const struct ussd_ctx *,
	             const struct ussd_state *);
	int citizen;
} screens[US_NSCREENS] = {
    [US_MAIN] = {step_main, show_main, 1},          /* status, rate, reg */
    [US_DIM] = {step_dim, show_dim, 0},             /* cat, main */
    [US_CAT] = {step_cat, show_cat, 1},             /* unit */
    [US_UNIT] = {step_unit, show_unit, 1},          /* itself */
    [US_TEXT] = {step_text, show_text, 1},          /* back to unit */
    [US_CONFIRM] = {step_confirm, show_confirm, 0}, /* text, the end */
    [US_RATE] = {step_rate, show_rate, 1},          /* itself */
    [US_SVC] = {step_svc, show_svc, 1},             /* rate, unit */
    [US_SCORE] = {step_score, show_score, 1},       /* rate, unit */
    [US_REG] = {step_reg, show_reg, 1},             /* itself */
    [US_DONE] = {step_done, show_done, 0},
};

/* Whether the next step from this state can read the citizen's part of the
 * context. */
int
ussd_reads_citizen(const struct ussd_state *st)
{
	return st->screen >= US_NSCREENS || screens[st->screen].citizen;
}

/* Show the state's screen under a reason line (if any). */
static void
show(const struct ussd_ctx *ctx, const struct ussd_state *st,
     const char *reason, struct ussd_out *out)
{
	struct buf b;
	char *t;

	buf_init(&b);
	if (reason != NULL) {
		t = disp(ctx, reason, USSD_REASON_MAX);
		buf_printf(&b, "%s\n", t);
		free(t);
	}
	screens[st->screen].show(&b, ctx, st);
	out->screen = cut(b.data, USSD_MAX);
	buf_clear(&b);
}

/* The first screen of a new session. */
void
ussd_start(const struct ussd_ctx *ctx, struct ussd_state *st,
           struct ussd_out *out)
{
	memset(st, 0, sizeof *st);
	memset(out, 0, sizeof *out);
	go(st, US_MAIN);
	show(ctx, st, NULL, out);
}

/* Apply one input to the state and say what to show and do. */
void
ussd_step(const struct ussd_ctx *ctx, struct ussd_state *st, const char *input,
          struct ussd_out *out)
{
	const char *reason;

	memset(out, 0, sizeof *out);
	if (st->screen >= US_NSCREENS)
		go(st, US_MAIN);
	reason = screens[st->screen].step(ctx, st, input, out);
	if (out->screen == NULL)
		show(ctx, st, reason, out);
}

/* An END screen from a fixed text. */
static char *
end_text(int diacritics, const char *text)
{
	struct ussd_ctx ctx = {.diacritics = diacritics};
	struct buf b;

	buf_init(&b);
	buf_adds(&b, "END ");
	add(&b, &ctx, text);
	return buf_detach(&b);
}

/* The END screen of a session that expired or is unknown. */
char *
ussd_expired(int diacritics)
{
	return end_text(diacritics, "Phiên đã hết hạn. Vui lòng quay số lại.");
}

/* The END screen when the database cannot answer. */
char *
ussd_unavailable(int diacritics)
{
	return end_text(diacritics, "Hệ thống đang bận. Vui lòng thử lại sau.");
}

/* "CON screen" or "END screen". */
char *
ussd_answer(const struct ussd_out *out)
{
	return xasprintf("%s %s", out->end ? "END" : "CON",
	                 out->screen != NULL ? out->screen : "");
}

/* Free what a step returned and clear it. */
void
ussd_out_clear(struct ussd_out *out)
{
	free(out->screen);
	free(out->fail);
	memset(out, 0, sizeof *out);
}
