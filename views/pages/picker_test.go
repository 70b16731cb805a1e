package pages_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/relink/relink/connection"
	"github.com/relink/relink/models"
	"github.com/relink/relink/providers"
	"github.com/relink/relink/views/pages"
)

func choice(kind providers.AssetKind, id, name string, selected bool) connection.Choice {
	return connection.Choice{Key: connection.Key(kind, id), Selected: selected,
		Asset: providers.Asset{Kind: kind, ExternalID: id, Name: name}}
}

func pickerView(pk connection.Picker) pages.PickerView {
	return pages.PickerView{SubAccount: cedar, Picker: pk, Action: "/accounts/3/connect/flows/9", Cancel: "/accounts/3/connections"}
}

func samplePicker() connection.Picker {
	ad := choice(providers.KindAdAccount, "act_1", "Cedar Ads", true)
	ad.Asset.Currency, ad.Asset.AccountStatus = "EUR", providers.AccountActive
	shared := choice(providers.KindAdAccount, "act_2", "Shared Ads", false)
	shared.Elsewhere = []string{"Bluebird Bakery", "Harbor Fitness"}
	fresh := choice(providers.KindPage, "p_2", "New Page", true)
	fresh.New = true
	gone := choice(providers.KindPage, "p_3", "Old Page", false)
	gone.Unreachable = true
	goneChosen := choice(providers.KindPage, "p_4", "Old Chosen Page", true)
	goneChosen.Unreachable = true
	return connection.Picker{FlowID: 9, Provider: "meta", UserID: "10001", UserName: "Avery Agency",
		Choices: []connection.Choice{fresh, gone, goneChosen, ad, shared}}
}

func TestPickerChecksTheChosenAssets(t *testing.T) {
	doc := render(t, pages.Picker(page, pickerView(samplePicker())))
	if got := text(one(t, doc, "main h1")); got != "Choose the Pages and ad accounts to connect to Cedar Dental" {
		t.Errorf("heading %q", got)
	}
	if got := text(one(t, doc, "[data-testid=picker-user]")); !strings.Contains(got, "Avery Agency") || !strings.Contains(got, "10001") {
		t.Errorf("the picker does not say whose account it is: %q", got)
	}
	form := one(t, doc, "form[data-testid=picker-form]")
	if attr(form, "method") != "post" || attr(form, "action") != "/accounts/3/connect/flows/9" {
		t.Errorf("the picker posts %q to %q", attr(form, "method"), attr(form, "action"))
	}
	checked := map[string]bool{}
	disabled := map[string]bool{}
	form.Find("input[data-testid=picker-asset]").Each(func(_ int, s *goquery.Selection) {
		if attr(s, "type") != "checkbox" || attr(s, "name") != "asset" {
			t.Errorf("asset input type %q name %q", attr(s, "type"), attr(s, "name"))
		}
		if goquery.NodeName(s.Closest("label")) != "label" {
			t.Errorf("asset %s is not in a label", attr(s, "value"))
		}
		_, checked[attr(s, "value")] = s.Attr("checked")
		_, disabled[attr(s, "value")] = s.Attr("disabled")
	})
	want := map[string]bool{"page:p_2": true, "page:p_3": false, "page:p_4": true, "ad_account:act_1": true, "ad_account:act_2": false}
	if fmt.Sprint(checked) != fmt.Sprint(want) {
		t.Errorf("checked boxes %v, want %v", checked, want)
	}
	if !disabled["page:p_3"] || disabled["page:p_4"] || disabled["ad_account:act_1"] {
		t.Errorf("disabled boxes %v: want only the unreachable unchosen one", disabled)
	}

	var heads []string
	doc.Find(".picker-group-head").Each(func(_ int, s *goquery.Selection) { heads = append(heads, text(s)) })
	if strings.Join(heads, "|") != "Facebook Page 3 assets|Ad account 2 assets" {
		t.Errorf("group headings %q", heads)
	}

	shared := doc.Find("input[value='ad_account:act_2']").Closest("label")
	if got := text(shared.Find("[data-testid=picker-elsewhere]")); got != "Already connected to Bluebird Bakery, Harbor Fitness" {
		t.Errorf("the shared asset says %q", got)
	}
	if n := doc.Find("[data-testid=picker-elsewhere]").Length(); n != 1 {
		t.Errorf("%d assets marked as connected elsewhere, want 1", n)
	}
	if got := text(doc.Find("input[value='page:p_2']").Closest("label").Find("[data-testid=picker-new]")); got != "New" {
		t.Errorf("the new asset's badge is %q", got)
	}
	if doc.Find("input[value='page:p_3']").Closest("label").Find("[data-testid=picker-unreachable]").Length() != 1 {
		t.Error("the unreachable asset is not flagged")
	}
	ad := text(doc.Find("input[value='ad_account:act_1']").Closest("label"))
	for _, w := range []string{"Cedar Ads", "act_1", "Ad account", "EUR", "Active"} {
		if !strings.Contains(ad, w) {
			t.Errorf("the ad account's row %q lacks %q", ad, w)
		}
	}

	tools := one(t, doc, ".picker-tools")
	if _, hidden := tools.Attr("hidden"); !hidden {
		t.Error("the filter tools show without JavaScript, where they do nothing")
	}
	for _, id := range []string{"picker-filter", "picker-select-all"} {
		el := one(t, doc, "[data-testid="+id+"]")
		if _, named := el.Attr("name"); named || el.Closest("form").Length() != 0 {
			t.Errorf("%s is in the form: Enter in it would submit, or it would be sent", id)
		}
	}
	if got := text(one(t, doc, "[data-testid=picker-submit]")); got != "Connect" {
		t.Errorf("the submit button says %q", got)
	}
	if got := attr(one(t, doc, "[data-testid=picker-cancel]"), "href"); got != "/accounts/3/connections" {
		t.Errorf("Cancel leads to %q", got)
	}
	if doc.Find("[data-testid=picker-replacing], [data-testid=picker-error]").Length() != 0 {
		t.Error("a plain picker shows a warning or an error")
	}
}

func TestPickerSubmitSaysWhatItDoes(t *testing.T) {
	pk := samplePicker()
	pk.FlowID = 0
	if got := text(one(t, render(t, pages.Picker(page, pickerView(pk))), "[data-testid=picker-submit]")); got != "Save choice" {
		t.Errorf("Choose assets submits with %q", got)
	}
	pk.FlowID = 9
	pk.Replacing = &models.Connection{ID: 7, ExternalUserID: "20002", ExternalUserName: "Blake Before"}
	if got := text(one(t, render(t, pages.Picker(page, pickerView(pk))), "[data-testid=picker-submit]")); got != "Replace and connect" {
		t.Errorf("a replacing picker submits with %q", got)
	}
}

func TestPickerWarnsBeforeReplacingAnotherUser(t *testing.T) {
	pk := samplePicker()
	pk.Replacing = &models.Connection{ID: 7, ExternalUserID: "20002", ExternalUserName: "Blake Before"}
	pk.Kept = []providers.Asset{{Name: "Cedar Ads"}}
	pk.Gained = []providers.Asset{{Name: "New Page"}, {Name: "Shared Ads"}}
	pk.Lost = []models.Asset{{Name: "Lost Pixel"}}
	doc := render(t, pages.Picker(page, pickerView(pk)))
	w := one(t, doc, "[data-testid=picker-replacing]")
	words := text(w)
	for _, want := range []string{"You signed in as Avery Agency, not Blake Before.",
		"Continuing replaces Blake Before's access with Avery Agency's."} {
		if !strings.Contains(words, want) {
			t.Errorf("the warning %q lacks %q", words, want)
		}
	}
	for sel, want := range map[string]string{
		"[data-testid=picker-kept]":   "Kept: 1 asset Cedar Ads",
		"[data-testid=picker-gained]": "Gained: 2 assets New Page, Shared Ads",
		"[data-testid=picker-lost]":   "Lost: 1 asset Lost Pixel",
	} {
		if got := text(one(t, doc, sel)); got != want {
			t.Errorf("%s says %q, want %q", sel, got, want)
		}
	}
	// The warning comes before the form it is about.
	if html, _ := doc.Html(); strings.Index(html, "picker-replacing") > strings.Index(html, "picker-form") {
		t.Error("the warning is below the form")
	}
}

func TestPickerShowsItsError(t *testing.T) {
	v := pickerView(samplePicker())
	v.Error = "Choose at least one asset."
	doc := render(t, pages.Picker(page, v))
	e := one(t, doc, "[data-testid=picker-error]")
	if text(e) != v.Error || attr(e, "role") != "alert" || !e.HasClass("form-error") {
		t.Errorf("error %q with role %q", text(e), attr(e, "role"))
	}
	if html, _ := doc.Html(); strings.Index(html, "picker-error") > strings.Index(html, "picker-form") {
		t.Error("the error is below the form")
	}
}

func TestPickerWithManyAssets(t *testing.T) {
	pk := connection.Picker{FlowID: 9, Provider: "meta", UserName: "Big Agency"}
	for i := range 300 {
		pk.Choices = append(pk.Choices, choice(providers.KindAdAccount, fmt.Sprint("act_", i), fmt.Sprint("Account ", i), i%2 == 0))
	}
	pk.Gained = make([]providers.Asset, 25)
	pk.Replacing = &models.Connection{ExternalUserName: "Someone"}
	doc := render(t, pages.Picker(page, pickerView(pk)))
	if n := doc.Find("input[data-testid=picker-asset]").Length(); n != 300 {
		t.Errorf("%d boxes, want 300", n)
	}
	if n := doc.Find("input[data-testid=picker-asset][checked]").Length(); n != 150 {
		t.Errorf("%d ticked, want 150", n)
	}
	if one(t, doc, ".picker-list").Find(".picker-group").Length() != 1 {
		t.Error("one kind is split into several groups")
	}
	if got := text(one(t, doc, "[data-testid=picker-gained]")); !strings.HasSuffix(got, "and 15 more") {
		t.Errorf("a long list of gained assets reads %q", got)
	}
	if got := attr(doc.Find("label.picker-item").First(), "data-filter"); got != "account 0 act_0" {
		t.Errorf("the filter text of a row is %q", got)
	}
}

func TestPickerWithNothingToChoose(t *testing.T) {
	pk := samplePicker()
	pk.Choices = nil
	doc := render(t, pages.Picker(page, pickerView(pk)))
	if !strings.Contains(text(one(t, doc, "[data-testid=picker-empty]")), "reaches no Pages or ad accounts") {
		t.Error("an empty picker does not say why")
	}
	if doc.Find("[data-testid=picker-submit]").Length() != 0 {
		t.Error("an empty picker offers a submit button that can only be refused")
	}
	if got := attr(one(t, doc, "[data-testid=picker-cancel]"), "href"); got != "/accounts/3/connections" {
		t.Errorf("Cancel leads to %q", got)
	}
}
