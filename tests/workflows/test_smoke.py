from workflows.models import Case


def test_proxy_lifecycle(wf, drive):
    case = wf.receive()
    assert case.state == "received"
    assert case.cross_region
    assert case.authority == wf.departments["yy_market"]
    case = drive(case, "approved")
    assert case.state == "print_queued"
    from workflows import actions

    case = actions.print_result(case=case, actor=wf.users["zy_printer"])
    case = actions.hand_over(case=case, actor=wf.users["zy_clerk"])
    assert Case.objects.get(pk=case.pk).state == "delivered"
    events = list(case.events.values_list("transition", "from_state", "to_state"))
    print(events)
